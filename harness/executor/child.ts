// The process a stack program runs in: Pulumi's own Node runner loads the program (entry resolution,
// ts-node 7 with the folder's tsconfig or none, CommonJS), against a resource monitor that hands each
// registration to the Executor, which carries it out on the real engine. Started by runStack (index.ts).
import * as net from "node:net";
import * as path from "node:path";
import { Executor, ExecutorOptions, isSecret } from "./executor";
import { stderrOutput, StepReporter } from "../engine/progress";
import { readState, removeTemporaryStates, secretKey, writeState } from "./state";
import { ChildJob, ChildResult } from "./protocol";

/* eslint-disable @typescript-eslint/no-require-imports -- modules are resolved from the program's folder */

type Callback = (error: unknown, response?: unknown) => void;
interface ProtoRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProvider(): string;
  getObject(): unknown;
  getDeletebeforereplace(): boolean;
}

async function main(job: ChildJob): Promise<ChildResult> {
  // The program's own @pulumi/pulumi, as Pulumi would load it: mocks set on any other copy would not apply.
  const from = (request: string) => require(require.resolve(request, { paths: [job.programDir] }));
  const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [job.programDir] }));
  const rpc = from(`${pulumiDir}/runtime/rpc`);
  const settings = from(`${pulumiDir}/runtime/settings`);
  const state = from(`${pulumiDir}/runtime/state`);
  const { MockMonitor } = from(`${pulumiDir}/runtime/mocks`);
  const resproto = from(`${pulumiDir}/proto/resource_pb`);
  const { unknown: unknownInput } = from(`${pulumiDir}/output`);
  const structproto = require(
    require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [pulumiDir] }),
  );

  // Progress goes to standard error, as plain lines when it is not a terminal (CI); MINIMAL_IMAGE_PROGRESS=0 mutes it.
  const steps = new StepReporter(
    process.env.MINIMAL_IMAGE_PROGRESS === "0" ? { write: () => true, tty: false } : stderrOutput(),
  );
  removeTemporaryStates(job.statePath);
  const previous = readState(job.statePath);
  const executorOptions: ExecutorOptions = {
    programDir: job.programDir,
    steps,
    owner: { project: job.project, stack: job.stack, statePath: job.statePath },
    secretKey: job.preview ? Buffer.alloc(32) : secretKey(job.statePath),
    save: (saved) => writeState(job.statePath, saved),
  };
  if (job.destroy) {
    await Executor.destroy(previous, executorOptions);
    writeState(job.statePath, { resources: {} });
    return { outputs: {}, records: [], errors: [] };
  }
  const executor = new Executor(previous, job.preview, executorOptions);
  // What a killed run made before it could record it goes first, so this run's names are free.
  if (!job.preview) await executor.removeOrphans();
  let inFlight = 0;
  const carriedOutErrors: Error[] = [];
  let failed: () => void = () => undefined;

  class EngineMonitor extends MockMonitor {
    constructor() {
      super({
        newResource: () => Promise.reject(new Error("unreachable: registrations go to registerResource")),
        call: (args: { token: string }) =>
          Promise.reject(new Error(`local executor: the function ${args.token} is not carried out`)),
      });
    }

    async registerResource(request: ProtoRequest, callback: Callback) {
      // As the engine: after a failed step nothing more starts; the steps in flight finish and are recorded.
      if (carriedOutErrors.length > 0) {
        callback(new Error(`local executor: ${request.getName()} not carried out: an earlier step failed`));
        return;
      }
      inFlight += 1;
      try {
        const self = this as unknown as {
          newUrn(parent: string, type: string, name: string): string;
          resources: Map<string, unknown>;
        };
        const urn = self.newUrn(request.getParent(), request.getType(), request.getName());
        // A preview's not-yet-known inputs come as the runtime's `unknown`; the executor sees the wire sentinel.
        const inputs = replaceDeep(
          rpc.deserializeProperties(request.getObject()),
          unknownInput,
          rpc.unknownValue,
        ) as Record<string, unknown>;
        const registration = { urn, type: request.getType(), name: request.getName() };
        let result = { id: "", outputs: {} as Record<string, unknown> };
        if (request.getCustom()) {
          const options = {
            inputs,
            provider: request.getProvider() || undefined,
            deleteBeforeReplace: request.getDeletebeforereplace(),
          };
          result = await executor.register({ ...registration, ...options }, rpc.unknownValue);
        } else {
          executor.registerComponent(registration);
        }
        const serialized = await rpc.serializeProperties("", result.outputs);
        self.resources.set(urn, { urn, id: result.id, state: serialized });
        const response = new resproto.RegisterResourceResponse();
        response.setUrn(urn);
        response.setId(result.id);
        response.setObject(structproto.Struct.fromJavaScript(serialized));
        callback(null, response);
      } catch (error) {
        // The engine stops at the first failed step; so does the run, once the steps in flight are done.
        carriedOutErrors.push(error as Error);
        callback(error);
      } finally {
        inFlight -= 1;
        if (carriedOutErrors.length > 0 && inFlight === 0) failed();
      }
    }

    // The stack's outputs, as Pulumi keeps them: which are secret is only known here.
    registerResourceOutputs(
      request: { getOutputs(): { toJavaScript(): unknown } | undefined },
      callback: Callback,
    ) {
      const outputs = (request.getOutputs()?.toJavaScript() ?? {}) as Record<string, unknown>;
      for (const [key, value] of Object.entries(outputs)) if (holdsSecret(value)) secretOutputs.add(key);
      super.registerResourceOutputs(request, callback);
    }
  }
  const secretOutputs = new Set<string>();

  settings.setMockOptions(new EngineMonitor(), job.project, job.stack, job.preview);
  const store = state.getStore();
  Object.assign(store, {
    supportsSecrets: true,
    supportsResourceReferences: true,
    supportsOutputValues: false,
    supportsDeletedWith: true,
    supportsAliasSpecs: true,
  });

  const errors: Error[] = [];
  const reported = new Set<unknown>();
  if (job.typescript) process.env.PULUMI_NODEJS_TYPESCRIPT = "true";
  // run.js reads one constant from its folder's index.js, whose loading would start the CLI's own main(),
  // which wants a gRPC monitor: that module is stood in for by the constant alone.
  const runnerIndex = require.resolve(`${pulumiDir}/cmd/run/index.js`);
  const Module = require("node:module") as { new (id: string): NodeJS.Module };
  const stand = new Module(runnerIndex);
  stand.filename = runnerIndex;
  stand.loaded = true;
  stand.exports = { nodeJSProcessExitedAfterLoggingUserActionableMessage: 32 };
  require.cache[runnerIndex] = stand;
  const { run } = from(`${pulumiDir}/cmd/run/run`);
  let outputs: Record<string, unknown> = {};
  // A registration that fails leaves the stack's outputs pending forever: the run ends once the
  // registrations in flight settle after the first reported error (as the CLI stops at its first error),
  // or when the event loop drains.
  const stopped = new Promise<void>((resolve) => {
    failed = resolve;
    process.once("beforeExit", () => resolve());
  }).then(() => {
    throw carriedOutErrors[0] ?? new Error("the program stopped before its stack outputs resolved");
  });
  try {
    outputs =
      (await Promise.race([
        stopped,
        run(
          { _: [job.entry], pwd: job.programDir },
          () => undefined,
          (error: Error) => {
            reported.add(error);
            errors.push(error);
            failed();
          },
          (error: unknown) => reported.has(error),
        ),
      ])) ?? {};
    await settings.waitForRPCs();
  } catch (error) {
    if (!reported.has(error) && errors.length === 0) errors.push(error as Error);
  }
  if (carriedOutErrors.length === 0) {
    // Failures inside applies surface as unhandled rejections, which the runner reports on a later turn;
    // after a failure the runtime's queue may never drain, so the wait is bounded.
    await new Promise((resolve) => setTimeout(resolve, 50));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      settings.waitForRPCs().catch((error: Error) => errors.push(error)),
      new Promise((resolve) => (timer = setTimeout(resolve, errors.length > 0 ? 1_000 : 60_000))),
    ]).finally(() => clearTimeout(timer));
  }
  const succeeded = errors.length === 0;
  writeState(job.statePath, await executor.finish(succeeded));
  const messages = [...new Set(errors.map(describeError))];
  const shown = Object.fromEntries(
    Object.entries(outputs).map(([key, value]) => [key, secretOutputs.has(key) ? "[secret]" : value]),
  );
  return { outputs: succeeded ? shown : {}, records: executor.records, errors: messages };
}

function holdsSecret(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  return isSecret(value) || Object.values(value).some(holdsSecret);
}

function replaceDeep(value: unknown, target: unknown, replacement: unknown): unknown {
  if (value === target) return replacement;
  if (Array.isArray(value)) return value.map((item) => replaceDeep(item, target, replacement));
  if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, replaceDeep(item, target, replacement)]),
    );
  }
  return value;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// fd 3 is a pipe to the parent (runStack): the result goes back on it, and its end means the parent died,
// when this process ends too rather than change the stack unlocked. It must not keep the event loop alive,
// whose draining ends the program.
const parent = new net.Socket({ fd: 3, readable: true, writable: true });
parent.unref();
parent.on("end", () => process.exit(1));
parent.on("error", () => process.exit(1));
parent.resume();

const job = JSON.parse(process.argv[2]) as ChildJob;
main(job)
  .catch((error: unknown) => ({ outputs: {}, records: [], errors: [describeError(error)] }) as ChildResult)
  .then((result) => {
    // The runner keeps handles open (gRPC mocks, timers); once the result is sent, end here.
    parent.removeAllListeners("end");
    parent.end(JSON.stringify(result), () => process.exit(result.errors.length === 0 ? 0 : 1));
  });
