/**
 * Inspects each image reference given as an argument, in this process, and prints one JSON line: each
 * outcome and this process's peak RSS. The memory tests run it as a child under a small heap.
 */
import { inspectImage } from "../../components/inspect";

async function inspectAll(references: string[]): Promise<void> {
  const outcomes: { name: string; message: string }[] = [];
  for (const reference of references) {
    try {
      const report = await inspectImage(reference);
      outcomes.push({ name: "success", message: report.imageRef });
    } catch (err) {
      outcomes.push({ name: (err as Error).name, message: (err as Error).message });
    }
  }
  // resourceUsage reports kibibytes.
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(`${JSON.stringify({ outcomes, maxRssBytes })}\n`);
}

void inspectAll(process.argv.slice(2));
