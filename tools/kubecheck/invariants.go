package kubecheck

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/rcgen/rcgen/internal/render"
)

// AnnotationOpenShift, on a workload (Deployment, StatefulSet, Job,
// CronJob...), declares why its image cannot run under OpenShift's default
// restricted-v2 policy and what it needs instead. Its value must read
// "anyuid required: REASON": the image needs a fixed user or group
// (runAsUser, runAsGroup or fsGroup), so the namespace's service account
// needs OpenShift's anyuid SCC. kubecheck then accepts the fixed IDs
// of that workload only, and reports the reason.
const AnnotationOpenShift = "rcgen.io/openshift"

const anyuidPrefix = "anyuid required: "

// workload is one pod template and what owns it.
type workload struct {
	obj      *Object
	meta     metav1.ObjectMeta // the owner's
	template *corev1.PodTemplateSpec
}

func (w workload) id() string { return w.obj.ID() }

func workloads(objs []*Object) []workload {
	var ws []workload
	for _, o := range objs {
		switch t := o.Typed.(type) {
		case *appsv1.Deployment:
			ws = append(ws, workload{o, t.ObjectMeta, &t.Spec.Template})
		case *appsv1.StatefulSet:
			ws = append(ws, workload{o, t.ObjectMeta, &t.Spec.Template})
		case *appsv1.DaemonSet:
			ws = append(ws, workload{o, t.ObjectMeta, &t.Spec.Template})
		case *appsv1.ReplicaSet:
			ws = append(ws, workload{o, t.ObjectMeta, &t.Spec.Template})
		case *batchv1.Job:
			ws = append(ws, workload{o, t.ObjectMeta, &t.Spec.Template})
		case *batchv1.CronJob:
			ws = append(ws, workload{o, t.ObjectMeta, &t.Spec.JobTemplate.Spec.Template})
		case *corev1.Pod:
			ws = append(ws, workload{o, t.ObjectMeta, &corev1.PodTemplateSpec{ObjectMeta: t.ObjectMeta, Spec: t.Spec}})
		}
	}
	return ws
}

// invariants are rcgen's own rules on a whole deployment: each error names
// the object and the field; notes are the accepted exceptions.
//
// openShift adds OpenShift's restricted-v2 to the Pod Security Standard
// "restricted" every deployment meets: no fixed user or groups but where a
// workload declares anyuid.
func invariants(objs []*Object, openShift bool) (errs []error, notes []string) {
	ws := workloads(objs)
	add := func(o *Object, format string, a ...interface{}) {
		errs = append(errs, fmt.Errorf("%s: %s", o.ID(), fmt.Sprintf(format, a...)))
	}
	for _, w := range ws {
		anyuid := false
		if v, ok := w.meta.Annotations[AnnotationOpenShift]; ok {
			reason, found := strings.CutPrefix(v, anyuidPrefix)
			if !found || strings.TrimSpace(reason) == "" {
				add(w.obj, "annotation %s must read %q followed by the reason, not %q", AnnotationOpenShift, anyuidPrefix+"REASON", v)
			} else {
				anyuid = true
				if openShift {
					notes = append(notes, fmt.Sprintf("%s runs under OpenShift's anyuid SCC, not restricted-v2: %s", w.id(), reason))
				}
			}
		}
		for _, m := range podRules(w.template, anyuid || !openShift) {
			add(w.obj, "%s", m)
		}
	}
	errs = append(errs, mongoSpread(objs, ws)...)
	errs = append(errs, services(objs, ws)...)
	errs = append(errs, references(objs, ws)...)
	errs = append(errs, networkPolicies(objs, ws)...)
	errs = append(errs, disruptionBudgets(objs, ws)...)
	errs = append(errs, wiring(objs, ws)...)
	sort.Strings(notes)
	return errs, notes
}

// psaEvaluator is the Pod Security Standards' checks as the API server's
// PodSecurity admission runs them (k8s.io/pod-security-admission):
// https://kubernetes.io/docs/concepts/security/pod-security-standards/
var psaEvaluator = func() policy.Evaluator {
	e, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		panic(err)
	}
	return e
}()

// restrictedV2Volumes are the volume types OpenShift's default SCC,
// restricted-v2, admits:
// https://github.com/openshift/cluster-kube-apiserver-operator/blob/master/bindata/bootkube/scc-manifests/0000_20_kube-apiserver-operator_00_scc-restricted-v2.yaml
var restrictedV2Volumes = "configMap csi downwardAPI emptyDir ephemeral image persistentVolumeClaim projected secret"

// podRules checks one pod template: resources, and the security a pod
// needs to run under the Pod Security Standard "restricted" (plain
// Kubernetes, Rancher) and OpenShift's restricted-v2 SCC (an arbitrary
// UID from the namespace's range: no fixed runAsUser or fsGroup) unless
// fixedIDs are accepted (anyuid declared, or not for OpenShift).
func podRules(t *corev1.PodTemplateSpec, fixedIDs bool) []string {
	var msgs []string
	spec := &t.Spec
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	for _, r := range psaEvaluator.EvaluatePod(psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}, &t.ObjectMeta, spec) {
		if !r.Allowed {
			msgs = append(msgs, fmt.Sprintf("Pod Security Standard %q: %s (%s)", psaapi.LevelRestricted, r.ForbiddenReason, r.ForbiddenDetail))
		}
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		msgs = append(msgs, "pod uses the host's network, PID or IPC namespace")
	}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			msgs = append(msgs, fmt.Sprintf("volume %q is a hostPath", v.Name))
		}
		if kind := volumeKind(v); !strings.Contains(" "+restrictedV2Volumes+" ", " "+kind+" ") {
			msgs = append(msgs, fmt.Sprintf("volume %q is of type %s, which OpenShift's restricted-v2 does not allow", v.Name, kind))
		}
	}
	if !fixedIDs {
		if psc.RunAsUser != nil {
			msgs = append(msgs, fmt.Sprintf("securityContext.runAsUser is fixed (%d): OpenShift's restricted-v2 assigns the UID from the namespace's range; drop it, or annotate the workload %s: %q", *psc.RunAsUser, AnnotationOpenShift, anyuidPrefix+"REASON"))
		}
		if psc.FSGroup != nil {
			msgs = append(msgs, fmt.Sprintf("securityContext.fsGroup is fixed (%d): OpenShift's restricted-v2 assigns it from the namespace's range; drop it, or annotate the workload %s: %q", *psc.FSGroup, AnnotationOpenShift, anyuidPrefix+"REASON"))
		}
		if psc.RunAsGroup != nil {
			msgs = append(msgs, fmt.Sprintf("securityContext.runAsGroup is fixed (%d): under OpenShift's restricted-v2 the pod runs with the namespace's group; drop it, or annotate the workload %s: %q", *psc.RunAsGroup, AnnotationOpenShift, anyuidPrefix+"REASON"))
		}
	}
	all := make([]corev1.Container, 0, len(spec.InitContainers)+len(spec.Containers))
	all = append(all, spec.InitContainers...)
	all = append(all, spec.Containers...)
	for _, c := range all {
		msgs = append(msgs, containerRules(c, psc, fixedIDs)...)
	}
	return msgs
}

func volumeKind(v corev1.Volume) string {
	switch {
	case v.ConfigMap != nil:
		return "configMap"
	case v.CSI != nil:
		return "csi"
	case v.DownwardAPI != nil:
		return "downwardAPI"
	case v.EmptyDir != nil:
		return "emptyDir"
	case v.Ephemeral != nil:
		return "ephemeral"
	case v.Image != nil:
		return "image"
	case v.PersistentVolumeClaim != nil:
		return "persistentVolumeClaim"
	case v.Projected != nil:
		return "projected"
	case v.Secret != nil:
		return "secret"
	case v.HostPath != nil:
		return "hostPath"
	}
	return "another"
}

func containerRules(c corev1.Container, psc *corev1.PodSecurityContext, fixedIDs bool) []string {
	var msgs []string
	bad := func(format string, a ...interface{}) {
		msgs = append(msgs, fmt.Sprintf("container %q: ", c.Name)+fmt.Sprintf(format, a...))
	}
	lim, req := c.Resources.Limits, c.Resources.Requests
	// Memory is limited (a leak or a runaway query must not take the
	// node), CPU only requested: a CPU limit throttles a process that
	// could use idle cores (the CFS quota bites within each 100ms period,
	// whatever the node's load), which for Rocket.Chat's event loop means
	// latency spikes at no gain; the request is what the scheduler
	// reserves. https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#how-pods-with-resource-limits-are-run
	cpu, hasCPU := req[corev1.ResourceCPU]
	mem, hasMem := lim[corev1.ResourceMemory]
	if !hasCPU || cpu.IsZero() {
		bad("no CPU request (resources.requests.cpu)")
	}
	if !hasMem || mem.IsZero() {
		bad("no memory limit (resources.limits.memory)")
	}
	// A memory request below the limit lets the scheduler overcommit the
	// node and the kernel kill the pod under pressure; unset, it defaults
	// to the limit (https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/).
	if rm, ok := req[corev1.ResourceMemory]; ok && hasMem && rm.Cmp(mem) != 0 {
		bad("memory request %s differs from its limit %s (rcgen sets them equal)", rm.String(), mem.String())
	}
	sc := c.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	if sc.Privileged != nil && *sc.Privileged {
		bad("privileged")
	}
	for _, p := range c.Ports {
		if p.HostPort != 0 {
			bad("hostPort %d", p.HostPort)
		}
	}
	nonRoot := psc.RunAsNonRoot
	if sc.RunAsNonRoot != nil {
		nonRoot = sc.RunAsNonRoot
	}
	if nonRoot == nil || !*nonRoot {
		bad("runAsNonRoot is not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		bad("allowPrivilegeEscalation is not false")
	}
	if sc.Capabilities == nil || !containsCap(sc.Capabilities.Drop, "ALL") {
		bad("capabilities do not drop ALL")
	}
	if sc.Capabilities != nil {
		for _, a := range sc.Capabilities.Add {
			if a != "NET_BIND_SERVICE" {
				bad("adds capability %s", a)
			}
		}
	}
	seccomp := psc.SeccompProfile
	if sc.SeccompProfile != nil {
		seccomp = sc.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		bad("seccompProfile is not RuntimeDefault")
	}
	if !fixedIDs {
		if sc.RunAsUser != nil {
			bad("securityContext.runAsUser is fixed (%d): OpenShift's restricted-v2 assigns the UID from the namespace's range; drop it, or annotate the workload %s: %q", *sc.RunAsUser, AnnotationOpenShift, anyuidPrefix+"REASON")
		}
		if sc.RunAsGroup != nil {
			bad("securityContext.runAsGroup is fixed (%d); drop it, or annotate the workload %s: %q", *sc.RunAsGroup, AnnotationOpenShift, anyuidPrefix+"REASON")
		}
	}
	return msgs
}

func containsCap(cs []corev1.Capability, c corev1.Capability) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// podsIn are the workloads of namespace ns whose pods sel selects.
func podsIn(ws []workload, ns string, sel labels.Selector) []workload {
	var out []workload
	for _, w := range ws {
		if w.obj.Namespace == ns && sel.Matches(labels.Set(w.template.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

// mongoSpread: every MongoDB member on a node of its own: a required
// anti-affinity on kubernetes.io/hostname against the members' own labels
// (https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity).
func mongoSpread(objs []*Object, ws []workload) []error {
	var errs []error
	for _, w := range ws {
		if w.template.Labels[render.KubeLabelName] != render.KubeMongo {
			continue
		}
		if _, ok := w.obj.Typed.(*appsv1.StatefulSet); !ok {
			continue
		}
		ok := false
		if a := w.template.Spec.Affinity; a != nil && a.PodAntiAffinity != nil {
			for _, term := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
				sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
				if err == nil && term.TopologyKey == corev1.LabelHostname && !sel.Empty() && sel.Matches(labels.Set(w.template.Labels)) {
					ok = true
				}
			}
		}
		if !ok {
			errs = append(errs, fmt.Errorf("%s: MongoDB members may share a node: no required podAntiAffinity on %s selecting the members' own labels", w.id(), corev1.LabelHostname))
		}
	}
	return errs
}

// services: only ClusterIP (headless included) Services, nothing exposed
// past the cluster but through the Ingress or HTTPRoute; each selects pods
// that exist, and each named targetPort is a port of those pods.
func services(objs []*Object, ws []workload) []error {
	var errs []error
	for _, o := range objs {
		svc, ok := o.Typed.(*corev1.Service)
		if !ok {
			continue
		}
		if t := svc.Spec.Type; t != "" && t != corev1.ServiceTypeClusterIP {
			errs = append(errs, fmt.Errorf("%s: type %s exposes it outside the cluster (only ClusterIP or headless Services; traffic comes in through the Ingress or HTTPRoute)", o.ID(), t))
		}
		if len(svc.Spec.ExternalIPs) > 0 {
			errs = append(errs, fmt.Errorf("%s: externalIPs expose it outside the cluster", o.ID()))
		}
		if len(svc.Spec.Selector) == 0 {
			errs = append(errs, fmt.Errorf("%s: no selector", o.ID()))
			continue
		}
		pods := podsIn(ws, o.Namespace, labels.SelectorFromSet(svc.Spec.Selector))
		if len(pods) == 0 {
			errs = append(errs, fmt.Errorf("%s: selector %s matches no pod template", o.ID(), labels.SelectorFromSet(svc.Spec.Selector)))
			continue
		}
		for _, p := range svc.Spec.Ports {
			if p.TargetPort.StrVal == "" {
				continue
			}
			if !anyPodHasPort(pods, p.TargetPort.StrVal) {
				errs = append(errs, fmt.Errorf("%s: port %q targets the named port %q, which no selected pod declares", o.ID(), p.Name, p.TargetPort.StrVal))
			}
		}
	}
	return errs
}

func anyPodHasPort(pods []workload, name string) bool {
	for _, w := range pods {
		for _, c := range w.template.Spec.Containers {
			for _, p := range c.Ports {
				if p.Name == name {
					return true
				}
			}
		}
	}
	return false
}

// references: every Secret and ConfigMap a pod reads (env, envFrom,
// volumes, projected volumes) is in the deployment, with the key it reads
// (a Secret or ConfigMap marked optional may be missing).
func references(objs []*Object, ws []workload) []error {
	type key struct{ kind, ns, name string }
	have := map[key]map[string]bool{}
	for _, o := range objs {
		switch t := o.Typed.(type) {
		case *corev1.Secret:
			ks := map[string]bool{}
			for k := range t.Data {
				ks[k] = true
			}
			for k := range t.StringData {
				ks[k] = true
			}
			have[key{"Secret", o.Namespace, o.Name}] = ks
		case *corev1.ConfigMap:
			ks := map[string]bool{}
			for k := range t.Data {
				ks[k] = true
			}
			for k := range t.BinaryData {
				ks[k] = true
			}
			have[key{"ConfigMap", o.Namespace, o.Name}] = ks
		}
	}
	var errs []error
	check := func(w workload, where, kind, name, k string, optional *bool) {
		if optional != nil && *optional {
			return
		}
		ks, ok := have[key{kind, w.obj.Namespace, name}]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %s reads %s %q, which is not in the deployment", w.id(), where, kind, name))
			return
		}
		if k != "" && !ks[k] {
			errs = append(errs, fmt.Errorf("%s: %s reads key %q of %s %q, which has no such key", w.id(), where, k, kind, name))
		}
	}
	for _, w := range ws {
		spec := w.template.Spec
		all := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
		for _, c := range all {
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				where := fmt.Sprintf("container %q env %s", c.Name, e.Name)
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					check(w, where, "Secret", r.Name, r.Key, r.Optional)
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					check(w, where, "ConfigMap", r.Name, r.Key, r.Optional)
				}
			}
			for _, e := range c.EnvFrom {
				where := fmt.Sprintf("container %q envFrom", c.Name)
				if r := e.SecretRef; r != nil {
					check(w, where, "Secret", r.Name, "", r.Optional)
				}
				if r := e.ConfigMapRef; r != nil {
					check(w, where, "ConfigMap", r.Name, "", r.Optional)
				}
			}
		}
		for _, v := range spec.Volumes {
			where := fmt.Sprintf("volume %q", v.Name)
			if s := v.Secret; s != nil {
				check(w, where, "Secret", s.SecretName, "", s.Optional)
				for _, it := range s.Items {
					check(w, where, "Secret", s.SecretName, it.Key, s.Optional)
				}
			}
			if c := v.ConfigMap; c != nil {
				check(w, where, "ConfigMap", c.Name, "", c.Optional)
				for _, it := range c.Items {
					check(w, where, "ConfigMap", c.Name, it.Key, c.Optional)
				}
			}
			if p := v.Projected; p != nil {
				for _, src := range p.Sources {
					if s := src.Secret; s != nil {
						check(w, where, "Secret", s.Name, "", s.Optional)
						for _, it := range s.Items {
							check(w, where, "Secret", s.Name, it.Key, s.Optional)
						}
					}
					if c := src.ConfigMap; c != nil {
						check(w, where, "ConfigMap", c.Name, "", c.Optional)
						for _, it := range c.Items {
							check(w, where, "ConfigMap", c.Name, it.Key, c.Optional)
						}
					}
				}
			}
		}
	}
	return errs
}

// networkPolicies: each policy's podSelector selects pods of the
// deployment, and so does each pod selector of its peers (a peer with a
// namespaceSelector is another namespace's business).
func networkPolicies(objs []*Object, ws []workload) []error {
	var errs []error
	for _, o := range objs {
		np, ok := o.Typed.(*networkingv1.NetworkPolicy)
		if !ok {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: podSelector: %v", o.ID(), err))
			continue
		}
		if len(podsIn(ws, o.Namespace, sel)) == 0 && !runtimePods(np.Spec.PodSelector) {
			errs = append(errs, fmt.Errorf("%s: podSelector %s selects no pod of the deployment", o.ID(), sel))
		}
		peer := func(where string, p networkingv1.NetworkPolicyPeer) {
			if p.PodSelector == nil || p.NamespaceSelector != nil {
				return
			}
			s, err := metav1.LabelSelectorAsSelector(p.PodSelector)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %v", o.ID(), where, err))
				return
			}
			if len(podsIn(ws, o.Namespace, s)) == 0 {
				errs = append(errs, fmt.Errorf("%s: %s podSelector %s selects no pod of the deployment", o.ID(), where, s))
			}
		}
		for i, r := range np.Spec.Ingress {
			for j, p := range r.From {
				peer(fmt.Sprintf("ingress[%d].from[%d]", i, j), p)
			}
		}
		for i, r := range np.Spec.Egress {
			for j, p := range r.To {
				peer(fmt.Sprintf("egress[%d].to[%d]", i, j), p)
			}
		}
	}
	return errs
}

// acmeSolverLabel marks the pods cert-manager starts in the namespace to
// answer an ACME HTTP-01 challenge (SolverIdentificationLabelKey,
// https://github.com/cert-manager/cert-manager/blob/v1.19.2/pkg/apis/acme/v1/types.go):
// no manifest makes them, a NetworkPolicy may well select them.
const acmeSolverLabel = "acme.cert-manager.io/http01-solver"

// runtimePods reports whether sel selects pods a controller makes at run
// time rather than the deployment's templates.
func runtimePods(sel metav1.LabelSelector) bool {
	_, ok := sel.MatchLabels[acmeSolverLabel]
	return ok
}

// disruptionBudgets: each PodDisruptionBudget selects pods.
func disruptionBudgets(objs []*Object, ws []workload) []error {
	var errs []error
	for _, o := range objs {
		pdb, ok := o.Typed.(*policyv1.PodDisruptionBudget)
		if !ok {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || sel.Empty() || len(podsIn(ws, o.Namespace, sel)) == 0 {
			errs = append(errs, fmt.Errorf("%s: selector selects no pod of the deployment", o.ID()))
		}
	}
	return errs
}
