/**
 * What a build's event stream says, step by step: each step's name and output (BuildKit's trace, or the
 * classic builder's `Step n/m :` lines), so that a failure can show the failing step and the end of its
 * output, and a terminal or CI log can show each step as it runs.
 */
import { decodeTrace } from "./buildkit-trace";
import { stripControls } from "../../components/outside-text";

/** One event of the engine's build or push stream. */
export interface EngineEvent {
  id?: string;
  aux?: unknown;
  stream?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
}

/** Where progress lines go: a terminal (one status line rewritten in place) or a plain log (CI). */
export interface ProgressOutput {
  write(text: string): void;
  tty: boolean;
}

/** Standard error, as a terminal when it is one. */
export function stderrOutput(): ProgressOutput {
  return { write: (text) => process.stderr.write(text), tty: Boolean(process.stderr.isTTY) };
}

/** A line of outside text made safe to print, its indentation kept (a compiler's caret lines need it). */
export function cleanLine(line: string): string {
  return stripControls(line).trimEnd();
}

interface Step {
  name: string;
  output: string[];
  error: string;
  startedAt?: number;
  done: boolean;
  cached: boolean;
}

/**
 * Reports steps as they start and end and, while one runs, its elapsed time: rewritten in place every second
 * on a terminal, a plain line every `heartbeatMs` (20 s by default, under CI's usual 30 s silence bound)
 * otherwise.
 */
export class StepReporter {
  private readonly running = new Map<string, { name: string; since: number }>();
  private timer?: NodeJS.Timeout;
  private lastLine = Date.now();
  private statusShown = false;

  constructor(
    private readonly out: ProgressOutput,
    private readonly heartbeatMs = 20_000,
  ) {}

  started(key: string, name: string): void {
    this.running.set(key, { name, since: Date.now() });
    this.line(`step ${shortName(name)}`);
    this.timer ??= setInterval(() => this.tick(), 1_000).unref();
  }

  finished(key: string, cached: boolean, failed = false): void {
    const step = this.running.get(key);
    if (!step) return;
    this.running.delete(key);
    const took = cached ? "cached" : `${((Date.now() - step.since) / 1000).toFixed(1)} s`;
    this.line(`${failed ? "FAILED" : "done"} ${shortName(step.name)} (${took})`);
  }

  /** A transient status, e.g. push progress: shown in place on a terminal, dropped in a plain log. */
  status(text: string): void {
    if (!this.out.tty) return;
    this.out.write(`\r\x1b[2K  ${text}`);
    this.statusShown = true;
  }

  /** A line every log keeps. */
  line(text: string): void {
    this.clearStatus();
    this.out.write(`  ${text}\n`);
    this.lastLine = Date.now();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clearStatus();
  }

  private tick(): void {
    const oldest = [...this.running.values()].sort((a, b) => a.since - b.since)[0];
    if (!oldest) return;
    const elapsed = `${Math.round((Date.now() - oldest.since) / 1000)} s`;
    if (this.out.tty) this.status(`${shortName(oldest.name)} … ${elapsed}`);
    else if (Date.now() - this.lastLine >= this.heartbeatMs)
      this.line(`still running ${shortName(oldest.name)} (${elapsed})`);
  }

  private clearStatus(): void {
    if (!this.statusShown) return;
    this.out.write("\r\x1b[2K");
    this.statusShown = false;
  }
}

/** A step's name: one line, runs of blanks (a Dockerfile's line continuations) made one space. */
function stepName(name: string): string {
  return cleanLine(name).replace(/\s+/g, " ").trim();
}

/** A step's name for a progress line: its first 100 characters, at a word's end (the full name is in errors). */
function shortName(name: string): string {
  const clean = stepName(name);
  if (clean.length <= 100) return clean;
  const cut = clean.slice(0, 100);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(" "), 60))} …`;
}

/** Collects a build's steps and their output from its events, and reports them as they come. */
export class BuildTranscript {
  private readonly steps = new Map<string, Step>();
  private readonly chunks: string[] = [];
  private classicStep = 0;

  constructor(private readonly reporter?: StepReporter) {}

  add(event: EngineEvent): void {
    if (event.id === "moby.buildkit.trace" && typeof event.aux === "string") {
      const trace = decodeTrace(event.aux);
      for (const vertex of trace.vertexes) {
        const step = this.step(vertex.digest, vertex.name);
        step.cached ||= vertex.cached;
        if (vertex.error) step.error = vertex.error;
        if (vertex.started && step.startedAt === undefined) {
          step.startedAt = Date.now();
          this.reporter?.started(vertex.digest, step.name);
        }
        if (vertex.completed && !step.done) {
          step.done = true;
          this.reporter?.finished(vertex.digest, step.cached, Boolean(step.error));
        }
      }
      for (const log of trace.logs) {
        const text = log.msg.toString("utf8");
        this.step(log.vertex, "").output.push(text);
        this.chunks.push(text);
      }
    } else if (typeof event.stream === "string") {
      this.chunks.push(event.stream);
      // The classic builder announces each step as `Step 3/6 : RUN …`; what follows is its output.
      const announced = /^Step \d+\/\d+ : (.*)$/m.exec(event.stream);
      if (announced) {
        if (this.classicStep > 0) this.reporter?.finished(`classic-${this.classicStep}`, false);
        this.classicStep += 1;
        const key = `classic-${this.classicStep}`;
        this.step(key, announced[1]);
        this.reporter?.started(key, announced[1]);
      } else if (this.classicStep > 0) this.step(`classic-${this.classicStep}`, "").output.push(event.stream);
    }
  }

  /** The build's text output: every step's output, in the order it came. */
  get log(): string {
    return this.chunks.join("");
  }

  /** The step that failed (BuildKit names it; the classic builder's is the last announced) and its output's end. */
  failedStep(lines = 30): { name?: string; tail: string[] } {
    const failed =
      [...this.steps.values()].find((step) => step.error && !/context canceled/.test(step.error)) ??
      (this.classicStep > 0 ? this.steps.get(`classic-${this.classicStep}`) : undefined);
    const output = (failed?.output ?? this.chunks).join("").split(/\r?\n/).map(cleanLine);
    while (output.length > 0 && output[output.length - 1] === "") output.pop();
    return { name: failed?.name ? stepName(failed.name) : undefined, tail: output.slice(-lines) };
  }

  finish(): void {
    if (this.classicStep > 0) this.reporter?.finished(`classic-${this.classicStep}`, false);
    this.reporter?.close();
  }

  private step(key: string, name: string): Step {
    let step = this.steps.get(key);
    if (!step) {
      step = { name, output: [], error: "", done: false, cached: false };
      this.steps.set(key, step);
    } else if (name && !step.name) step.name = name;
    return step;
  }
}
