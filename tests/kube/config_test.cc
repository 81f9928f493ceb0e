// Configurations against the emulator over TLS: in-cluster (service-account token rotation, the
// cluster CA), kubeconfig with certificate-authority-data, and a CA that does not match.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "emulator.h"
#include "oomscope/kube/api_status.h"
#include "oomscope/kube/client.h"
#include "oomscope/kube/config.h"
#include "oomscope/kube/resource.h"

namespace k = oomscope::kube;
namespace kt = oomscope::kube::testing;
namespace fs = std::filesystem;
using oomscope::Code;

namespace {

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

// A CA and a server certificate for 127.0.0.1 signed by it, made with the openssl CLI.
struct Pki {
  explicit Pki(const std::string& name) {
    dir = fs::temp_directory_path() / ("oomscope-kube-pki-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string d = dir.string();
    Write(dir / "san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    std::string cmd =
        "cd '" + d + "' && openssl req -x509" + ec + "-keyout ca.key -out ca.crt -subj /CN=test-ca -days 1" +
        " && openssl req" + ec + "-keyout server.key -out server.csr -subj /CN=127.0.0.1" +
        " && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt" +
        " -days 1 -extfile san.ext" +
        " && openssl req -x509" + ec + "-keyout other.key -out other.crt -subj /CN=other-ca -days 1";
    ok = std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
  }
  ~Pki() { fs::remove_all(dir); }
  std::string Path(const char* f) const { return (dir / f).string(); }
  fs::path dir;
  bool ok = false;
};

std::string Port(const std::string& url) { return url.substr(url.rfind(':') + 1); }

}  // namespace

TEST_SUITE("config") {

TEST_CASE("in-cluster over TLS: the rotated service-account token is picked up after a 401") {
  Pki pki("incluster");
  REQUIRE(pki.ok);
  kt::Emulator emu({"--tls-cert", pki.Path("server.crt"), "--tls-key", pki.Path("server.key"),
                    "--token", "token-v2"});
  REQUIRE(emu.ok());
  REQUIRE(emu.url().rfind("https://127.0.0.1:", 0) == 0);

  k::InClusterPaths paths;
  paths.token_file = (pki.dir / "token").string();
  paths.ca_file = pki.Path("ca.crt");
  paths.namespace_file = (pki.dir / "namespace").string();
  paths.host = "127.0.0.1";
  paths.port = Port(emu.url());
  Write(paths.token_file, "token-v1\n");  // not (or no longer) accepted
  auto config = k::InClusterConfig(paths);
  REQUIRE(config.ok());
  auto client = k::NewKubeClient(*config);
  REQUIRE(client.ok());

  auto denied = (*client)->Get(k::resources::Namespaces(), "", "default");
  CHECK(denied.status().code() == Code::kUnauthenticated);
  CHECK(k::ParseApiStatus(denied.status()).code == 401);

  // The kubelet rotates the token: the next 401 makes the client re-read the file and retry.
  Write(paths.token_file, "token-v2\n");
  auto allowed = (*client)->Get(k::resources::Namespaces(), "", "default");
  CHECK(allowed.ok());

  // Watches authenticate with the same token.
  k::WatchOptions o;
  o.timeout_seconds = 1;
  oomscope::Status w = (*client)->Watch(k::resources::Namespaces(), "", o,
                                        [](const k::WatchEvent&) { return false; });
  CHECK(w.ok());
}

TEST_CASE("kubeconfig with certificate-authority-data talks TLS; a wrong CA is refused") {
  Pki pki("kubeconfig");
  REQUIRE(pki.ok);
  kt::Emulator emu({"--tls-cert", pki.Path("server.crt"), "--tls-key", pki.Path("server.key")});
  REQUIRE(emu.ok());

  auto b64 = [&](const char* file) {
    std::string out = (pki.dir / (std::string(file) + ".b64")).string();
    std::string cmd = "openssl base64 -A -in '" + pki.Path(file) + "' -out '" + out + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
    return Slurp(out);
  };
  std::string kubeconfig = "apiVersion: v1\nkind: Config\ncurrent-context: emu\n"
                           "clusters:\n- name: emu\n  cluster:\n    server: " + emu.url() +
                           "\n    certificate-authority-data: " + b64("ca.crt") +
                           "\n- name: wrong\n  cluster:\n    server: " + emu.url() +
                           "\n    certificate-authority: other.crt\n"
                           "- name: skip\n  cluster:\n    server: " + emu.url() +
                           "\n    insecure-skip-tls-verify: true\n"
                           "contexts:\n- name: emu\n  context: {cluster: emu, user: admin}\n"
                           "- name: wrong\n  context: {cluster: wrong, user: admin}\n"
                           "- name: skip\n  context: {cluster: skip, user: admin}\n"
                           "users:\n- name: admin\n  user: {token: anything}\n";
  Write(pki.dir / "kubeconfig", kubeconfig);

  auto good = k::LoadKubeconfig((pki.dir / "kubeconfig").string());
  REQUIRE(good.ok());
  auto client = k::NewKubeClient(*good);
  REQUIRE(client.ok());
  CHECK((*client)->Get(k::resources::Namespaces(), "", "default").ok());

  auto wrong = k::LoadKubeconfig((pki.dir / "kubeconfig").string(), "wrong");
  REQUIRE(wrong.ok());
  auto wrong_client = k::NewKubeClient(*wrong);
  REQUIRE(wrong_client.ok());
  auto refused = (*wrong_client)->Get(k::resources::Namespaces(), "", "default");
  CHECK(refused.status().code() == Code::kUnavailable);

  auto skip = k::LoadKubeconfig((pki.dir / "kubeconfig").string(), "skip");
  REQUIRE(skip.ok());
  auto skip_client = k::NewKubeClient(*skip);
  REQUIRE(skip_client.ok());
  CHECK((*skip_client)->Get(k::resources::Namespaces(), "", "default").ok());

  // A client certificate and key load (this emulator does not ask for one, so the call still
  // works); a certificate without its key is a configuration error.
  k::ClusterConfig with_cert = *good;
  with_cert.client_cert_pem = Slurp(pki.dir / "other.crt");
  with_cert.client_key_pem = Slurp(pki.dir / "other.key");
  auto cert_client = k::NewKubeClient(with_cert);
  REQUIRE(cert_client.ok());
  CHECK((*cert_client)->Get(k::resources::Namespaces(), "", "default").ok());
  with_cert.client_key_pem.clear();
  CHECK(k::NewKubeClient(with_cert).status().code() == Code::kInvalidArgument);

  // Garbage PEM is a configuration error up front.
  k::ClusterConfig broken = *good;
  broken.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
  CHECK(k::NewKubeClient(broken).status().code() == Code::kInvalidArgument);
}

}  // TEST_SUITE
