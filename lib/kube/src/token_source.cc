#include "token_source.h"

#include <fstream>
#include <sstream>

#include "oomscope/common/log.h"

namespace oomscope::kube {

bool TokenSource::ReadLocked() {
  read_at_ = std::chrono::steady_clock::now();
  read_once_ = true;
  std::ifstream in(file_, std::ios::binary);
  if (!in) {
    log::Warn("cannot read the API token file; keeping the previous token", {{"file", file_}});
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.empty() || t == token_) return false;
  token_ = std::move(t);
  return true;
}

std::string TokenSource::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!file_.empty() &&
      (!read_once_ || std::chrono::steady_clock::now() - read_at_ >= refresh_)) {
    ReadLocked();
  }
  return token_;
}

bool TokenSource::Refresh() {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_.empty()) return false;
  return ReadLocked();
}

}  // namespace oomscope::kube
