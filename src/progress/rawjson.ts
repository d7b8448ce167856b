import { solveStatusToJson, type SolveStatus } from "./types.js";

/** `--progress=rawjson`: one BuildKit SolveStatus JSON object per line. */
export class RawJsonRenderer {
  constructor(private readonly write: (text: string) => void) {}

  update(status: SolveStatus): void {
    this.write(solveStatusToJson(status) + "\n");
  }

  finish(): void {}
}
