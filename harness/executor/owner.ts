// Crash safety: every container and network the executor creates carries its stack's labels, so a run
// killed before it wrote its state leaves nothing a later run or `--down` cannot find and remove.
import Docker from "dockerode";
import { engineError } from "../engine/engine-error";
import { StackState } from "./state";

/** The stack a run changes, as its engine objects are labelled. */
export interface Owner {
  project: string;
  stack: string;
  /** The state file: two stacks of one name with different state files are different stacks. */
  statePath: string;
}

/** The harness's own label keys; a program may not declare any key under this prefix. */
export const OWNER_LABEL_PREFIX = "io.minimal-image.harness.";
const STATE_LABEL = `${OWNER_LABEL_PREFIX}state`;

/** The labels of an engine object made for `urn`. */
export function ownerLabels(owner: Owner, urn: string): Record<string, string> {
  return {
    [`${OWNER_LABEL_PREFIX}project`]: owner.project,
    [`${OWNER_LABEL_PREFIX}stack`]: owner.stack,
    [STATE_LABEL]: owner.statePath,
    [`${OWNER_LABEL_PREFIX}urn`]: urn,
  };
}

/** Fails on a declared label under the harness's prefix: it would make the object look like another's. */
export function refuseOwnerLabels(what: string, labels: unknown): void {
  for (const { label } of (labels ?? []) as { label?: unknown }[]) {
    if (typeof label === "string" && label.startsWith(OWNER_LABEL_PREFIX)) {
      throw new Error(
        `local executor: ${what} label ${label} is reserved for the local executor's own ownership labels; ` +
          "choose another key",
      );
    }
  }
}

const ownedBy = (owner: Owner) => ({ filters: { label: [`${STATE_LABEL}=${owner.statePath}`] } });

/**
 * Removes the containers, then the networks, labelled as this stack's that its state does not hold: what a
 * killed run created before it could record it. Returns how many it removed.
 */
export async function removeOrphans(
  docker: Docker,
  owner: Owner,
  state: StackState,
  progress: (line: string) => void,
): Promise<number> {
  const known = new Set(Object.values(state.resources).map((resource) => resource.id));
  let removed = 0;
  for (const container of await docker.listContainers({ all: true, ...ownedBy(owner) })) {
    if (known.has(container.Id)) continue;
    progress(
      `removing container ${container.Names[0]?.slice(1) ?? container.Id}, left by an interrupted run`,
    );
    await docker
      .getContainer(container.Id)
      .remove({ force: true, v: true })
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 404) throw engineError(`removing orphan container ${container.Id}`, error);
      });
    removed += 1;
  }
  for (const network of await docker.listNetworks(ownedBy(owner))) {
    if (known.has(network.Id)) continue;
    progress(`removing network ${network.Name}, left by an interrupted run`);
    await docker
      .getNetwork(network.Id)
      .remove()
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 404) throw engineError(`removing orphan network ${network.Name}`, error);
      });
    removed += 1;
  }
  return removed;
}

/**
 * Creates a named container or network. When the engine answers 409 (name taken), an object of this stack
 * that its state does not hold (a killed run's) is removed and the creation retried once; anything else is
 * an error that names the object and the fix.
 */
export async function createClaiming<T>(
  kind: "container" | "network",
  name: string,
  owner: Owner,
  docker: Docker,
  create: () => Promise<T>,
): Promise<T> {
  try {
    return await create().catch(async (error: { statusCode?: number }) => {
      if (error.statusCode !== 409) throw error;
      await claimName(kind, name, owner, docker);
      return create();
    });
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("local executor:")) throw error;
    throw engineError(`creating ${kind} ${name}`, error);
  }
}

async function claimName(kind: "container" | "network", name: string, owner: Owner, docker: Docker) {
  const labels =
    kind === "container"
      ? (await docker.getContainer(name).inspect()).Config.Labels
      : (await docker.getNetwork(name).inspect()).Labels;
  if (labels?.[STATE_LABEL] !== owner.statePath) {
    throw new Error(
      `local executor: a ${kind} named ${name} already exists (the engine answered 409) and this stack did not make it. ` +
        `Remove it (docker ${kind === "container" ? "rm -f" : "network rm"} ${name}) or give the ` +
        "resource another name, then run again",
    );
  }
  if (kind === "container") await docker.getContainer(name).remove({ force: true, v: true });
  else await docker.getNetwork(name).remove();
}
