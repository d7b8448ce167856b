/**
 * Field splitting for `ShellLex.processWords`: unquoted whitespace (including whitespace produced
 * by an unquoted expansion) separates fields; quoted and escaped text never does.
 */

/** Go's `unicode.IsSpace`: ASCII blanks, NEL, NBSP and the Unicode White_Space separators. */
export function isGoSpace(ch: string): boolean {
  switch (ch) {
    case "\t":
    case "\n":
    case "\v":
    case "\f":
    case "\r":
    case " ":
    case "\u0085":
    case "\u00a0":
      return true;
  }
  return ch.codePointAt(0)! > 0xff && /^\p{White_Space}$/u.test(ch);
}

/** Accumulates fields while the scanner feeds it characters. */
export class WordCollector {
  private word = "";
  private inWord = false;
  private readonly words: string[] = [];

  /** An unquoted character: whitespace ends the current field. */
  addChar(ch: string): void {
    if (isGoSpace(ch)) {
      if (this.inWord && this.word.length !== 0) {
        this.words.push(this.word);
        this.word = "";
        this.inWord = false;
      }
    } else {
      this.addRaw(ch);
    }
  }

  /** Text that belongs to the current field whatever it contains (quoted or escaped). */
  addRaw(text: string): void {
    this.word += text;
    this.inWord = true;
  }

  /** The result of an unquoted expansion: split like unquoted characters. */
  addString(text: string): void {
    for (const ch of text) this.addChar(ch);
  }

  finish(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = "";
      this.inWord = false;
    }
    return this.words;
  }
}
