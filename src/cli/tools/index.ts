// The everyday data tools: `strata inspect`, `strata export`, `strata import`, `strata compact` (docs/operations.md,
// "Everyday tools"). Finds the tool, parses its arguments and maps what goes wrong to the exit
// status the credential commands use: 0 done, 1 refused/failed/damage found, 2 bad usage.
import { compactTool } from './compact.js';
import { exportTool } from './export.js';
import { importTool } from './import.js';
import { inspectTool } from './inspect.js';
import { ConfigError, ToolError, UsageError, parseToolArgs, toolHelp, usageLine, type Tool, type ToolContext } from './common.js';
import { EngineError } from '../../../engine/index.js';

export type { ToolContext } from './common.js';

export const TOOLS: readonly Tool[] = [inspectTool, exportTool, importTool, compactTool];

/** True when `argv` names one of the tools (its first word). */
export function isToolCommand(argv: readonly string[]): boolean {
  return TOOLS.some((t) => t.name === argv[0]);
}

/** Runs `strata <tool> …` (isToolCommand(argv) is true); resolves to the exit code. */
export async function runTool(argv: readonly string[], ctx: ToolContext): Promise<number> {
  const tool = TOOLS.find((t) => t.name === argv[0])!;
  // A reader that goes away (`strata export … | head`) ends the write with EPIPE: handled below
  // through writeText, never as an unhandled 'error' event.
  const ignore = (): void => undefined;
  ctx.stdout.on('error', ignore);
  try {
    const call = parseToolArgs(tool, argv.slice(1), ctx);
    if (call === 'help') {
      ctx.stdout.write(`${toolHelp(tool)}\n`);
      return 0;
    }
    return await tool.run(call, ctx);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      ctx.stderr.write(`strata: ${err.message}\nUsage: ${usageLine(tool)}\nRun strata ${tool.name} --help for details.\n`);
      return 2;
    }
    if (err instanceof ToolError || err instanceof EngineError) {
      ctx.stderr.write(`strata: ${err.message}\n`);
      return 1;
    }
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'EPIPE') return 0; // the reader of stdout stopped reading: nothing more to say
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      // A file that cannot be opened, read or written: the system's message names it.
      ctx.stderr.write(`strata: ${(err as Error).message}\n`);
      return 1;
    }
    ctx.stderr.write(`strata: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  } finally {
    ctx.stdout.off('error', ignore);
  }
}
