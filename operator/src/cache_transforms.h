#pragma once

// What the operator's informers keep of each object (kube::Informer::SetTransform). With 10,000
// pods the Pod cache is most of the operator's memory, so Pods and ReplicaSets are cut down to
// exactly what the controller and Reconcile read; the objects it writes back whole (Deployments,
// HPAs) only lose metadata.managedFields.

#include <nlohmann/json.hpp>

namespace oomscope::op {

// A Pod as the operator reads it: metadata name, namespace, uid, resourceVersion,
// deletionTimestamp and the controller ownerReference (apiVersion, kind, name, uid, controller);
// of status.containerStatuses only the containers that have a terminated state (current or last),
// each with name, restartCount and state/lastState.terminated {reason, exitCode, finishedAt}
// (detection needs nothing else: an OOM is a terminated state; a container never terminated is
// left out, so a healthy pod is its metadata). Labels are not kept: no pod is selected by label.
void SlimPod(nlohmann::json& pod);

// A ReplicaSet as the owner chain needs it: the same metadata as SlimPod, nothing else.
void SlimReplicaSet(nlohmann::json& replicaset);

}  // namespace oomscope::op
