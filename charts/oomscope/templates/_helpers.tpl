{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "oomscope.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name prefix of every object: <release>-oomscope, or the release name when it says oomscope. */}}
{{- define "oomscope.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "oomscope.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "oomscope.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: oomscope
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component ("operator" or "analyzer"): pass (dict "ctx" . "component" "x"). */}}
{{- define "oomscope.selectorLabels" -}}
app.kubernetes.io/name: {{ include "oomscope.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Labels of one component's objects. */}}
{{- define "oomscope.componentLabels" -}}
{{ include "oomscope.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The operator's ServiceAccount name. */}}
{{- define "oomscope.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (printf "%s-operator" (include "oomscope.fullname" .)) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: repository@digest, or repository:tag (default appVersion). */}}
{{- define "oomscope.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Name of the Secret that holds the upload token (key "token"). */}}
{{- define "oomscope.uploadTokenSecret" -}}
{{- default (printf "%s-analyzer-token" (include "oomscope.fullname" .)) .Values.uploadToken.existingSecret }}
{{- end }}

{{/* Name of the analyzer's Service. */}}
{{- define "oomscope.analyzerName" -}}
{{- printf "%s-analyzer" (include "oomscope.fullname" .) }}
{{- end }}

{{/* The analyzer URL as the sidecars in application namespaces reach it. */}}
{{- define "oomscope.analyzerUrl" -}}
{{- if .Values.analyzer.enabled }}
{{- printf "http://%s.%s.svc:%d" (include "oomscope.analyzerName" .) .Release.Namespace (int .Values.analyzer.port) }}
{{- else }}
{{- required "analyzer.externalUrl is required when analyzer.enabled is false" .Values.analyzer.externalUrl }}
{{- end }}
{{- end }}

{{/* The analyzer's PersistentVolumeClaim name. */}}
{{- define "oomscope.analyzerClaim" -}}
{{- default (printf "%s-analyzer-store" (include "oomscope.fullname" .)) .Values.analyzer.persistence.existingClaim }}
{{- end }}

{{/*
The operator's rules: exactly the API calls it makes (informers list and watch; it reads a
Deployment fresh before updating it; HeapDiagnoses are created, their status merge-patched; Events
created). tests/chart checks them against the calls the operator's integration test records. Secrets: "create" cannot be restricted by name;
get and update only on the mirrored upload-token Secret.
*/}}
{{- define "oomscope.operatorRules" -}}
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["create"]
- apiGroups: [""]
  resources: ["secrets"]
  resourceNames: ["oomscope-upload-token"]
  verbs: ["get", "update"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "update"]
- apiGroups: ["apps"]
  resources: ["replicasets"]
  verbs: ["list", "watch"]
- apiGroups: ["autoscaling"]
  resources: ["horizontalpodautoscalers"]
  verbs: ["list", "watch", "update"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create"]
- apiGroups: ["oomscope.io"]
  resources: ["heapdiagnoses"]
  verbs: ["list", "watch", "create"]
- apiGroups: ["oomscope.io"]
  resources: ["heapdiagnoses/status"]
  verbs: ["patch"]
{{- end }}
