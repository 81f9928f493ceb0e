#include "oomscope/kube/informer.h"

namespace oomscope::kube {

Informer::Informer(KubeClient& client, InformerOptions options)
    : client_(client), options_(std::move(options)) {}
Informer::~Informer() { Stop(); }
void Informer::AddHandlers(EventHandlers handlers) { handlers_.push_back(std::move(handlers)); }
void Informer::Start() {}
void Informer::Stop() {}
bool Informer::HasSynced() const { return synced_; }
bool Informer::WaitForSync(std::chrono::milliseconds, const StopSignal*) const { return false; }
RestartCounters Informer::restarts() const { std::lock_guard<std::mutex> l(mu_); return counters_; }
std::string Informer::last_resource_version() const { std::lock_guard<std::mutex> l(mu_); return resource_version_; }
Status Informer::last_error() const { std::lock_guard<std::mutex> l(mu_); return last_error_; }

}  // namespace oomscope::kube
