import assert from "node:assert/strict";
import { kubernetesReplicaSpec } from "../../components/deploy/kubernetes";
import { IMAGE_REF, kubernetesOptions } from "./fixtures";
import { assertHardenedPodSpec, assertRestrictedPodSpec } from "./restricted";

// A loosely typed pod spec, so that tests can break it in ways the manifest types forbid.
type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A compliant pod spec with a port, to break one rule at a time. */
function compliantPod(): Loose {
  const options = kubernetesOptions({ ports: [8080] });
  return structuredClone(
    kubernetesReplicaSpec({ name: "pausle", imageRef: IMAGE_REF, options }).deployment.spec.template.spec,
  );
}

// [rule broken, how to break it, text the violation must contain]
const restrictedBreaks: [string, (pod: Loose) => void, RegExp][] = [
  ["host network", (pod) => (pod.hostNetwork = true), /hostNetwork/],
  ["host PID", (pod) => (pod.hostPID = true), /hostPID/],
  ["host IPC", (pod) => (pod.hostIPC = true), /hostIPC/],
  [
    "Windows host process",
    (pod) => (pod.securityContext.windowsOptions = { hostProcess: true }),
    /hostProcess/,
  ],
  ["privileged", (pod) => (pod.containers[0].securityContext.privileged = true), /privileged/],
  [
    "privilege escalation",
    (pod) => (pod.containers[0].securityContext.allowPrivilegeEscalation = true),
    /allowPrivilegeEscalation/,
  ],
  [
    "privilege escalation left unset",
    (pod) => delete pod.containers[0].securityContext.allowPrivilegeEscalation,
    /allowPrivilegeEscalation/,
  ],
  ["runAsNonRoot unset", (pod) => delete pod.securityContext.runAsNonRoot, /runAsNonRoot/],
  [
    "runAsNonRoot overridden",
    (pod) => (pod.containers[0].securityContext.runAsNonRoot = false),
    /runAsNonRoot/,
  ],
  ["root user in the pod", (pod) => (pod.securityContext.runAsUser = 0), /runAsUser must not be 0/],
  [
    "root user in a container",
    (pod) => (pod.containers[0].securityContext.runAsUser = 0),
    /runAsUser must not be 0/,
  ],
  ["no seccomp profile", (pod) => delete pod.securityContext.seccompProfile, /seccompProfile/],
  [
    "unconfined seccomp",
    (pod) => (pod.containers[0].securityContext.seccompProfile = { type: "Unconfined" }),
    /seccompProfile/,
  ],
  ["capabilities kept", (pod) => delete pod.containers[0].securityContext.capabilities, /drop ALL/],
  [
    "a capability added",
    (pod) => (pod.containers[0].securityContext.capabilities.add = ["NET_RAW"]),
    /NET_RAW/,
  ],
  [
    "a baseline capability added",
    (pod) => (pod.containers[0].securityContext.capabilities.add = ["CHOWN"]),
    /CHOWN/,
  ],
  ["a host port", (pod) => (pod.containers[0].ports[0].hostPort = 8080), /hostPort/],
  ["a hostPath volume", (pod) => (pod.volumes = [{ name: "h", hostPath: { path: "/" } }]), /hostPath/],
  [
    "a non-restricted volume type",
    (pod) => (pod.volumes = [{ name: "n", nfs: { server: "s", path: "/" } }]),
    /nfs/,
  ],
  [
    "an unsafe sysctl",
    (pod) => (pod.securityContext.sysctls = [{ name: "kernel.msgmax", value: "1" }]),
    /sysctl/,
  ],
  ["an unmasked /proc", (pod) => (pod.containers[0].securityContext.procMount = "Unmasked"), /procMount/],
  [
    "a custom SELinux type",
    (pod) => (pod.securityContext.seLinuxOptions = { type: "spc_t" }),
    /seLinuxOptions.type/,
  ],
  [
    "a SELinux user",
    (pod) => (pod.containers[0].securityContext.seLinuxOptions = { user: "u" }),
    /seLinuxOptions.user/,
  ],
  [
    "AppArmor unconfined",
    (pod) => (pod.securityContext.appArmorProfile = { type: "Unconfined" }),
    /appArmorProfile/,
  ],
  [
    "an init container that escalates",
    (pod) => (pod.initContainers = [{ name: "i", securityContext: {} }]),
    /initContainers\[0\]/,
  ],
  [
    "an ephemeral container that escalates",
    (pod) => (pod.ephemeralContainers = [{ name: "e" }]),
    /ephemeralContainers\[0\]/,
  ],
  ["no container at all", (pod) => (pod.containers = []), /no containers/],
];

const hardeningBreaks: [string, (pod: Loose) => void, RegExp][] = [
  [
    "a service-account token",
    (pod) => delete pod.automountServiceAccountToken,
    /automountServiceAccountToken/,
  ],
  ["another uid", (pod) => (pod.securityContext.runAsUser = 1000), /runAsUser must be 65532/],
  [
    "another gid in the container",
    (pod) => (pod.containers[0].securityContext.runAsGroup = 0),
    /runAsGroup must be 65532/,
  ],
  [
    "a writable root filesystem",
    (pod) => (pod.containers[0].securityContext.readOnlyRootFilesystem = false),
    /readOnlyRootFilesystem/,
  ],
  ["no memory limit", (pod) => delete pod.containers[0].resources.limits.memory, /limits.memory/],
  ["no requests", (pod) => delete pod.containers[0].resources.requests, /requests.cpu/],
  [
    "an exec probe",
    (pod) => (pod.containers[0].livenessProbe = { exec: { command: ["true"] } }),
    /livenessProbe must use tcpSocket only/,
  ],
  [
    "an HTTP probe",
    (pod) => (pod.containers[0].readinessProbe = { httpGet: { port: 8080 } }),
    /readinessProbe/,
  ],
  [
    "a probe on an undeclared port",
    (pod) => (pod.containers[0].startupProbe = { tcpSocket: { port: 1 } }),
    /undeclared port/,
  ],
  [
    "an exec hook",
    (pod) => (pod.containers[0].lifecycle = { preStop: { exec: { command: ["sh"] } } }),
    /preStop/,
  ],
];

describe("deploy: restricted pod assertions", () => {
  it("pass on the spec that kubernetesReplicaSpec makes", () => {
    assertRestrictedPodSpec(compliantPod());
    assertHardenedPodSpec(compliantPod());
  });

  for (const [rule, breakIt, message] of restrictedBreaks) {
    it(`assertRestrictedPodSpec fails on ${rule}`, () => {
      const pod = compliantPod();
      breakIt(pod);
      assert.throws(() => assertRestrictedPodSpec(pod), message);
    });
  }

  for (const [rule, breakIt, message] of hardeningBreaks) {
    it(`assertHardenedPodSpec fails on ${rule}`, () => {
      const pod = compliantPod();
      breakIt(pod);
      assert.throws(() => assertHardenedPodSpec(pod), message);
    });
  }

  it("accept pod-level settings that containers inherit, and Localhost seccomp", () => {
    const pod = compliantPod();
    pod.securityContext.seccompProfile = { type: "Localhost", localhostProfile: "p.json" };
    pod.containers[0].securityContext.capabilities.add = ["NET_BIND_SERVICE"];
    pod.volumes = [{ name: "tmp", emptyDir: {} }];
    assertRestrictedPodSpec(pod);
  });
});
