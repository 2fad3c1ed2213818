// The markdown of card texts (TextBlock, Fact) as the Webex apps on phones show it: they render
// cards with Microsoft's native Adaptive Cards renderers, whose shared parser (AdaptiveCards
// repository, source/shared/cpp/ObjectModel/MarkDownParser.cpp and MarkDownBlockParser.cpp)
// knows bold, italic, lists and links, and little else. This imitates that parser's behaviour,
// quirks included, so the sandbox page shows what a phone shows:
//  - a backslash is dropped only before `[`, `]`, `)` and a line break, and right after a run
//    of `*`/`_`; before `*` or `_` it stays on screen (and makes them text);
//  - a list starts wherever a block starts: at the beginning, after a line break, and after
//    `[`, `]` and `)`; `-`/`+` without a space and digits are read as text first;
//  - emphasis follows the parser's own flanking rules (a byte of a non-ASCII character counts
//    as a letter) and pairs runs of one character, never runs whose lengths add up to a
//    multiple of three when one of them could open and close;
//  - `<`, `>`, `&` and `"` are text; line breaks become <br> as on Android.
"use strict";

(function (root) {
  const ESCAPE = "escape";
  const INIT = "init";
  const SPACE = "space";
  const ALNUM = "alnum";
  const PUNCT = "punct";
  const BLOCK_TOKENS = "[])\n\r";

  const isSpace = (c) => c !== undefined && " \t\n\r\f\v".includes(c);
  const isDigit = (c) => c !== undefined && c >= "0" && c <= "9";
  const isAlnum = (c) => c !== undefined && (c > "\x7f" || /[A-Za-z0-9]/.test(c));
  const isPunct = (c) => c !== undefined && /[!-/:-@[-`{-~]/.test(c);
  const isControl = (c) => c !== undefined && (c < " " || c === "\x7f");

  // A character as the parser remembers what came before a delimiter run.
  function lookBehind(c, previous) {
    if (isAlnum(c)) return ALNUM;
    if (isSpace(c)) return SPACE;
    if (isPunct(c)) return c === "\\" ? ESCAPE : PUNCT;
    return previous;
  }

  // A run of `*` or `_` that could open and/or close emphasis; its tags are added when it pairs.
  class Run {
    constructor(chars, count, kind, opens, closes) {
      this.chars = chars;
      this.unused = count;
      this.kind = kind;
      this.side = opens && closes ? "both" : opens ? "left" : "right";
      this.direction = "right";
      this.tags = [];
    }
    isLeft() { return this.side === "left" || this.direction === "left"; }
    isRight() { return this.side !== "left" && this.direction === "right"; }
    isBoth() { return this.side === "both"; }
    matches(other) {
      return this.kind === other.kind && !((this.isBoth() || other.isBoth()) && (this.unused + other.unused) % 3 === 0);
    }
    opening() { return this.side === "left" || (this.side === "both" && this.direction === "left"); }
    push(name) { this.tags.push(this.opening() ? `<${name}>` : `</${name}>`); }
    html() {
      const rest = this.unused ? this.chars.slice(this.chars.length - this.unused) : "";
      return this.side === "left" ? rest + [...this.tags].reverse().join("") : this.tags.join("") + rest;
    }
  }

  // Pairs `left` with `right` as far as their unused delimiters go; whether any tag was made.
  function pair(left, right) {
    let count;
    const over = left.unused - right.unused;
    if (over >= 0) {
      count = right.unused;
      left.unused = over;
      right.unused = 0;
    } else {
      count = left.unused;
      right.unused = -over;
      left.unused = 0;
    }
    if (count % 2) { left.push("em"); right.push("em"); }
    for (let i = 0; i < Math.floor(count / 2); i++) { left.push("strong"); right.push("strong"); }
    return count > 0;
  }

  // Tokens with their block kind (p, ul, ol); head and tail open and close the block.
  class Parsed {
    constructor() {
      this.items = [];
      this.runs = [];
      this.tags = false;
      this.captured = false;
    }
    add(item) {
      const last = this.items[this.items.length - 1];
      if (last && last.block !== item.block) {
        if (last.newline) this.items.pop();
        const tail = this.items[this.items.length - 1];
        if (tail) tail.tail = true;
        item.head = true;
      }
      this.items.push(item);
    }
    text(html) { this.add({ block: "p", html }); }
    newline(c) { this.add({ block: "p", html: c, newline: true }); }
    run(run) { this.add({ block: "p", run }); this.runs.push(run); }
    append(other) {
      other.items.forEach((item, i) => (i === 0 ? this.add(item) : this.items.push(item)));
      this.runs.push(...other.runs);
      this.tags = this.tags || other.tags;
      this.captured = other.captured;
    }
    // Pairs the runs: openers wait on a stack; a closer takes the nearest opener that matches.
    translate() {
      const waiting = [];
      let i = 0;
      while (i < this.runs.length) {
        const current = this.runs[i];
        if (current.isLeft() || (current.isBoth() && waiting.length === 0)) {
          if (current.isBoth() && current.isRight()) current.direction = "left";
          waiting.push(current);
          i++;
        } else if (waiting.length) {
          let left = waiting[waiting.length - 1];
          if (!left.matches(current)) {
            const skipped = [];
            let found = false;
            while (waiting.length && !found) {
              const candidate = waiting[waiting.length - 1];
              if (candidate.matches(current)) { left = candidate; found = true; } else skipped.push(waiting.pop());
            }
            if (!found) {
              while (skipped.length) waiting.push(skipped.pop());
              if (waiting[waiting.length - 1].kind === current.kind) current.direction = "left"; else i++;
              continue;
            }
          }
          this.tags = pair(left, current) || this.tags;
          if (current.unused === 0) i++;
          if (left.unused === 0) waiting.pop();
        } else {
          i++;
        }
      }
    }
    html(withBlocks) {
      if (withBlocks && this.items.length) {
        this.items[0].head = true;
        this.items[this.items.length - 1].tail = true;
      }
      return this.items.map((item) => {
        const body = item.run ? item.run.html() : item.html;
        if (item.block === "p") return (item.head ? "<p>" : "") + body + (item.tail ? "</p>" : "");
        const open = item.block === "ul" ? "<ul>" : `<ol start="${item.start}">`;
        return (item.head ? open : "") + body + (item.tail ? `</${item.block}>` : "");
      }).join("");
    }
  }

  class Parser {
    constructor(source) {
      this.s = source;
      this.pos = 0;
    }
    peek(offset = 0) { return this.s[this.pos + offset]; }

    block(out) {
      const c = this.peek();
      if (c === "[") this.link(out);
      else if (c === "]" || c === ")") { out.text(c); this.pos++; }
      else if (c === "\n" || c === "\r") { out.newline(c); this.pos++; }
      else if (c === "-" || c === "+" || c === "*") this.bullet(out, c);
      else if (isDigit(c)) this.numbered(out);
      else this.emphasis(out);
    }

    // Text up to the next `[`, `]`, `)` or line break, with its delimiter runs.
    emphasis(out) {
      let behind = INIT;
      let token = "";
      let inRun = false;
      let kind = null;
      let count = 0;
      let afterPunct = false;
      let intraword = false;
      const flushText = () => { if (token) out.text(token); token = ""; };
      const opens = (next) => count > 0 && next !== undefined && !isSpace(next) && !(behind === ALNUM && isPunct(next)) &&
        !(behind === ALNUM && kind === "_");
      const closes = (next) => {
        if ((next === undefined || isSpace(next)) && behind !== SPACE && (afterPunct || intraword || kind === "*")) return true;
        if (isAlnum(next) && behind !== SPACE && behind !== INIT) return !afterPunct && !intraword;
        return isPunct(next) && behind !== SPACE;
      };
      const capture = (next) => {
        const canClose = closes(next);
        const canOpen = opens(next);
        if (canClose || canOpen) out.run(new Run(token, count, kind, canOpen, canClose));
        else if (token) out.text(token);
        token = "";
      };
      const startRun = (c) => {
        if (behind !== SPACE) {
          afterPunct = behind === PUNCT;
          intraword = behind === ALNUM && c === "_";
        }
        count++;
        kind = c;
      };
      for (;;) {
        const c = this.peek();
        if (!inRun) {
          const special = c !== undefined && BLOCK_TOKENS.includes(c);
          if (c === undefined || (behind !== ESCAPE && special)) { flushText(); return; }
          if ((c === "*" || c === "_") && behind !== ESCAPE) {
            flushText();
            if (this.pos > 0) behind = lookBehind(this.s[this.pos - 1], behind);
            count = 0;
            startRun(c);
            token = c;
            this.pos++;
            inRun = true;
          } else {
            if (special && behind === ESCAPE) token = token.slice(0, -1);
            behind = lookBehind(c, behind);
            token += c;
            this.pos++;
          }
        } else {
          if (c === undefined || BLOCK_TOKENS.includes(c)) { capture(c); return; }
          if ((c === "*" || c === "_") && behind !== ESCAPE) {
            if (c === kind) startRun(c);
            token += c;
            this.pos++;
          } else {
            capture(c);
            if (c === "\\") this.pos++;
            count = 0;
            inRun = false;
            const next = this.peek();
            if (next === undefined) return;
            behind = lookBehind(next, behind);
            token += next;
            this.pos++;
          }
        }
      }
    }

    // `[text](destination)`, the destination's parentheses balanced; anything else is text.
    link(out) {
      const text = new Parsed();
      text.text("[");
      this.pos++;
      const fail = () => out.append(text);
      if (this.peek() !== "]") {
        while (this.peek() !== undefined && this.peek() !== "]") {
          const inner = new Parsed();
          this.block(inner);
          text.append(inner);
          if (text.captured) break;
        }
        if (this.peek() !== "]") return fail();
      }
      this.pos++;
      text.text("]");
      if (this.peek() !== "(") return fail();
      this.pos++;
      text.text("(");
      let depth = 1;
      let end = 0;
      for (let p = this.pos; p < this.s.length && depth > 0; p++) {
        if (this.s[p] === "(") depth++;
        else if (this.s[p] === ")") depth--;
        if (depth === 0) end = p;
      }
      const first = this.peek();
      if (!end || isControl(first) || isSpace(first)) return fail();
      const destination = new Parsed();
      while (this.pos < end && this.peek() !== undefined) {
        if (this.peek() === "[") { destination.text("["); this.pos++; } else this.block(destination);
      }
      if (this.peek() === ")") this.pos++;
      text.items.shift();
      text.items.splice(-2, 2);
      text.translate();
      const link = new Parsed();
      link.text(`<a href="${destination.html(false)}">${text.html(false)}</a>`);
      link.tags = true;
      link.captured = true;
      out.append(link);
    }

    // What follows a list marker: the rest of the line, and further lines until a new item or a blank line.
    item(out, block, start) {
      while (this.peek() === " ") this.pos++;
      const content = new Parsed();
      this.block(content);
      while (this.pos < this.s.length) {
        if (this.peek() === "\n" || this.peek() === "\r") {
          const newline = this.peek();
          this.pos++;
          if (isDigit(this.peek())) {
            let digits = "";
            do { digits += this.peek(); this.pos++; } while (isDigit(this.peek()));
            if (this.peek() === ".") { this.pos--; break; }
            content.text(digits);
          } else if ("-+*".includes(this.peek() ?? "x") && this.peek(1) === " ") {
            break;
          } else if (this.peek() === "\n" || this.peek() === "\r") {
            while (this.peek() === "\n" || this.peek() === "\r") this.pos++;
            break;
          }
          content.text(newline);
        }
        this.block(content);
      }
      content.translate();
      const item = new Parsed();
      item.add({ block, html: `<li>${content.html(false)}</li>`, start });
      item.tags = true;
      out.append(item);
    }

    bullet(out, c) {
      this.pos++;
      if (this.peek() === " ") return this.item(out, "ul");
      if (c === "*") {
        this.pos--;
        this.emphasis(out);
      } else {
        out.text(c);
      }
    }

    numbered(out) {
      let digits = "";
      while (isDigit(this.peek())) { digits += this.peek(); this.pos++; }
      if (this.peek() !== ".") return out.text(digits);
      this.pos++;
      if (this.peek() === " ") return this.item(out, "ol", digits);
      out.text(digits + ".");
    }
  }

  function escapeHtml(text) {
    return text.replace(/[<>"&]/g, (c) => ({ "<": "&lt;", ">": "&gt;", '"': "&quot;", "&": "&amp;" })[c]);
  }

  // HTML of a card text, as a phone shows it.
  function cardMarkdown(text) {
    if (!text) return "<p></p>";
    const parser = new Parser(escapeHtml(text));
    const parsed = new Parsed();
    while (parser.pos < parser.s.length) parser.block(parsed);
    parsed.translate();
    return parsed.html(true).replace(/\r\n|\n|\r/g, "<br>");
  }

  root.cardMarkdown = cardMarkdown;
  if (typeof module !== "undefined") module.exports = { cardMarkdown };
})(typeof window !== "undefined" ? window : globalThis);
