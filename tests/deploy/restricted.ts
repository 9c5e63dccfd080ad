import { AssertionError } from "node:assert";

/**
 * Checks of the Kubernetes Pod Security Standards, "restricted" profile (which includes "baseline"),
 * as https://kubernetes.io/docs/concepts/security/pod-security-standards/ lists them, and of the
 * stricter rules minimal-image adds for its scratch images. Pod specs are read loosely (`unknown`) so
 * that non-compliant specs can be fed in as well.
 */

const BASELINE_CAPABILITIES = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);
const SELINUX_TYPES = new Set([
  "",
  "container_t",
  "container_init_t",
  "container_kvm_t",
  "container_engine_t",
]);
const RESTRICTED_VOLUME_SOURCES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);

/** Reads a nested property of a loosely typed object; undefined if any step is missing. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function items(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Every container of the pod: regular, init and ephemeral, with a label for messages. */
function allContainers(podSpec: unknown): { where: string; container: unknown }[] {
  return ["containers", "initContainers", "ephemeralContainers"].flatMap((kind) =>
    items(at(podSpec, kind)).map((container, i) => ({ where: `${kind}[${i}]`, container })),
  );
}

/** Lists the ways `podSpec` breaks the restricted profile; empty when it complies. */
export function restrictedViolations(podSpec: unknown): string[] {
  const violations: string[] = [];
  const fail = (message: string) => violations.push(message);
  const pod = at(podSpec, "securityContext");

  for (const key of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (at(podSpec, key) === true) fail(`${key} must be unset or false`);
  }
  if (at(pod, "windowsOptions", "hostProcess") === true)
    fail("securityContext.windowsOptions.hostProcess is set");
  for (const [i, volume] of items(at(podSpec, "volumes")).entries()) {
    const sources = Object.keys(volume as object).filter((key) => key !== "name");
    for (const source of sources) {
      if (!RESTRICTED_VOLUME_SOURCES.has(source))
        fail(`volumes[${i}] uses ${source}, not an allowed volume type`);
    }
  }
  for (const [i, sysctl] of items(at(pod, "sysctls")).entries()) {
    if (!SAFE_SYSCTLS.has(at(sysctl, "name") as string))
      fail(`securityContext.sysctls[${i}] is not a safe sysctl`);
  }
  checkSeLinux(pod, "securityContext", fail);
  checkAppArmor(pod, "securityContext", fail);
  if (at(pod, "runAsUser") === 0) fail("securityContext.runAsUser must not be 0");
  if (at(pod, "seccompProfile", "type") === "Unconfined")
    fail("securityContext.seccompProfile is Unconfined");

  const containers = allContainers(podSpec);
  if (at(podSpec, "containers", 0) === undefined) fail("the pod has no containers");
  for (const { where, container } of containers) {
    const sc = at(container, "securityContext");
    if (at(sc, "windowsOptions", "hostProcess") === true) fail(`${where}: windowsOptions.hostProcess is set`);
    if (at(sc, "privileged") === true) fail(`${where}: privileged must be unset or false`);
    if (at(sc, "allowPrivilegeEscalation") !== false)
      fail(`${where}: allowPrivilegeEscalation must be false`);
    const procMount = at(sc, "procMount");
    if (procMount !== undefined && procMount !== "Default") fail(`${where}: procMount must be Default`);
    for (const [p, port] of items(at(container, "ports")).entries()) {
      const hostPort = at(port, "hostPort");
      if (hostPort !== undefined && hostPort !== 0) fail(`${where}.ports[${p}]: hostPort must be unset or 0`);
    }
    checkSeLinux(sc, `${where}.securityContext`, fail);
    checkAppArmor(sc, `${where}.securityContext`, fail);
    // Container settings override pod settings; the effective value is what counts.
    if ((at(sc, "runAsNonRoot") ?? at(pod, "runAsNonRoot")) !== true)
      fail(`${where}: runAsNonRoot must be true`);
    if (at(sc, "runAsUser") === 0) fail(`${where}: runAsUser must not be 0`);
    const seccomp = at(sc, "seccompProfile", "type") ?? at(pod, "seccompProfile", "type");
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
      fail(`${where}: seccompProfile must be RuntimeDefault or Localhost`);
    }
    const drop = items(at(sc, "capabilities", "drop"));
    if (!drop.includes("ALL")) fail(`${where}: capabilities must drop ALL`);
    for (const capability of items(at(sc, "capabilities", "add"))) {
      // Restricted allows only NET_BIND_SERVICE; baseline's wider list is named for clearer messages.
      if (capability !== "NET_BIND_SERVICE") {
        const level = BASELINE_CAPABILITIES.has(capability as string) ? "restricted" : "baseline";
        fail(`${where}: capability ${String(capability)} may not be added (${level})`);
      }
    }
  }
  return violations;
}

function checkSeLinux(sc: unknown, where: string, fail: (message: string) => void): void {
  const type = at(sc, "seLinuxOptions", "type");
  if (type !== undefined && !SELINUX_TYPES.has(type as string))
    fail(`${where}: seLinuxOptions.type is not allowed`);
  for (const key of ["user", "role"]) {
    const value = at(sc, "seLinuxOptions", key);
    if (value !== undefined && value !== "") fail(`${where}: seLinuxOptions.${key} must be unset`);
  }
}

function checkAppArmor(sc: unknown, where: string, fail: (message: string) => void): void {
  const type = at(sc, "appArmorProfile", "type");
  if (type !== undefined && type !== "RuntimeDefault" && type !== "Localhost") {
    fail(`${where}: appArmorProfile must be RuntimeDefault or Localhost`);
  }
}

/**
 * Lists the ways `podSpec` breaks minimal-image's own rules on top of the restricted profile: uid and gid
 * 65532, read-only root filesystem, no service-account token, requests and limits for CPU and memory,
 * and probes that only open a TCP connection to a declared port (a scratch image has nothing to exec).
 */
export function hardeningViolations(podSpec: unknown): string[] {
  const violations: string[] = [];
  const fail = (message: string) => violations.push(message);
  const pod = at(podSpec, "securityContext");
  if (at(podSpec, "automountServiceAccountToken") !== false)
    fail("automountServiceAccountToken must be false");
  for (const { where, container } of allContainers(podSpec)) {
    const sc = at(container, "securityContext");
    for (const key of ["runAsUser", "runAsGroup"]) {
      if ((at(sc, key) ?? at(pod, key)) !== 65532) fail(`${where}: ${key} must be 65532`);
    }
    if (at(sc, "readOnlyRootFilesystem") !== true) fail(`${where}: readOnlyRootFilesystem must be true`);
    for (const kind of ["requests", "limits"]) {
      for (const resource of ["cpu", "memory"]) {
        if (typeof at(container, "resources", kind, resource) !== "string") {
          fail(`${where}: resources.${kind}.${resource} must be set`);
        }
      }
    }
    const declared = items(at(container, "ports")).map((port) => at(port, "containerPort"));
    for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
      const spec = at(container, probe);
      if (spec === undefined) continue;
      const handlers = ["exec", "httpGet", "grpc", "tcpSocket"].filter((h) => at(spec, h) !== undefined);
      if (handlers.join() !== "tcpSocket")
        fail(`${where}: ${probe} must use tcpSocket only, not ${handlers}`);
      else if (!declared.includes(at(spec, "tcpSocket", "port")))
        fail(`${where}: ${probe} targets an undeclared port`);
    }
    for (const hook of ["postStart", "preStop"]) {
      if (at(container, "lifecycle", hook, "exec") !== undefined)
        fail(`${where}: lifecycle.${hook} must not exec`);
    }
  }
  return violations;
}

/** Asserts that `podSpec` meets the Pod Security Standards "restricted" profile. */
export function assertRestrictedPodSpec(podSpec: unknown): void {
  report(restrictedViolations(podSpec), "the restricted Pod Security Standard");
}

/** Asserts that `podSpec` meets minimal-image's rules beyond the restricted profile. */
export function assertHardenedPodSpec(podSpec: unknown): void {
  report(hardeningViolations(podSpec), "minimal-image's pod hardening");
}

function report(violations: string[], what: string): void {
  if (violations.length > 0) {
    throw new AssertionError({ message: `pod spec breaks ${what}:\n  ${violations.join("\n  ")}` });
  }
}
