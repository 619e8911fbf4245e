/**
 * TaskRouter's expression language (the subset unstick needs), in one pure, workflow-safe module: the emulator
 * uses it for `EvaluateTaskAttributes`, the policy for the operator's Task protection (`UNSTICK_PROTECT_TASKS`).
 *
 * Grammar (keywords in any case; `&&` `||` `!` are aliases of AND OR NOT):
 *   expr       := or
 *   or         := and ( OR and )*
 *   and        := unary ( AND unary )*
 *   unary      := NOT unary | '(' expr ')' | comparison
 *   comparison := operand op operand | true | false
 *   op         := == | = | != | > | >= | < | <= | HAS | CONTAINS | IN | NOT IN
 *   operand    := attribute | string | number | true | false | null | list
 *   attribute  := name ( '.' name | '[' digits ']' )*      name := [A-Za-z_][A-Za-z0-9_]*, not a keyword
 *   list       := '[' ( scalar ( ',' scalar )* )? ']'
 *
 * Semantics (every comparison is total: it never throws, a type mismatch is simply false):
 * - An attribute that is missing (or reached through a non-object, an array without an index, an index out of
 *   range) is `null`, as in TaskRouter: `x == null` is true when x is missing; `x != null` means "present and not null".
 *   Only own properties count (`constructor`, `toString`, `length` are missing, not JavaScript's).
 * - `==` compares scalars: strings, numbers, booleans, null. A number equals a string that is a plain decimal
 *   number (`3 == "3"`, but not `0 == ""` or `16 == "0x10"`). Arrays and objects equal nothing. `!=` is `NOT ==`.
 * - `> >= < <=` compare numbers (and plain decimal strings, like TaskRouter's `taskrouter.currentHour > 8`).
 * - `a IN b`: b is a list (or an array attribute) with an element equal to a; `a NOT IN b` is `NOT (a IN b)`.
 *   `a HAS b` is `b IN a`. `a CONTAINS b`: both strings, b a substring of a.
 * - A bare attribute is an error (say `vip == true` or `vip != null`); a bare `true`/`false` is a constant.
 * Literal operands are type-checked when parsing: a list only where an array belongs, numbers for `>`, strings for
 * CONTAINS. Errors are ExpressionError, with the offending token and its 0-based position.
 */

export type Scalar = string | number | boolean | null;
export type PathSegment = string | number;
export type Operand =
  | { kind: 'attr'; path: PathSegment[] }
  | { kind: 'lit'; value: Scalar }
  | { kind: 'list'; items: Scalar[] };
export type Comparator = '==' | '!=' | '>' | '>=' | '<' | '<=' | 'HAS' | 'CONTAINS' | 'IN' | 'NOT IN';
export type Expr =
  | { op: 'and' | 'or'; items: Expr[] }
  | { op: 'not'; expr: Expr }
  | { op: 'cmp'; cmp: Comparator; left: Operand; right: Operand }
  | { op: 'const'; value: boolean };

export class ExpressionError extends Error {
  constructor(message: string, public readonly position: number) {
    super(message);
    this.name = 'ExpressionError';
  }
}

/** Deeper nesting (parentheses, NOT chains) is refused rather than risking the stack. */
export const MAX_DEPTH = 64;

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'HAS', 'CONTAINS', 'TRUE', 'FALSE', 'NULL']);

type TokKind = 'str' | 'num' | 'attr' | 'word' | 'op' | 'lp' | 'rp' | 'lb' | 'rb' | 'comma' | 'end';
interface Tok {
  t: TokKind;
  /** The source text of the token (for messages). */
  text: string;
  pos: number;
  /** str: the unescaped value; word: the upper-cased keyword. */
  value?: string;
  path?: PathSegment[];
}

const NUM_RE = /-?\d+(?:\.\d+)?/y;
const NAME_RE = /[A-Za-z_][A-Za-z0-9_]*/y;
const INDEX_RE = /\[(\d+)\]/y;
const SEGMENT_RE = /\.([A-Za-z_][A-Za-z0-9_]*)/y;
const PUNCT: Record<string, TokKind> = { '(': 'lp', ')': 'rp', '[': 'lb', ']': 'rb', ',': 'comma' };

function sticky(re: RegExp, src: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(src);
}

function describe(tok: Tok): string {
  if (tok.t === 'end') return 'end of expression';
  return tok.t === 'str' ? `string ${tok.text}` : JSON.stringify(tok.text);
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) { s += src[j + 1]; j += 2; continue; }
        s += src[j];
        j++;
      }
      if (j >= src.length) throw new ExpressionError(`unterminated string at position ${i}: ${src.slice(i, i + 20)}${src.length > i + 20 ? '…' : ''} has no closing ${c}`, i);
      out.push({ t: 'str', text: src.slice(i, j + 1), pos: i, value: s });
      i = j + 1;
      continue;
    }
    const punct = PUNCT[c];
    if (punct) { out.push({ t: punct, text: c, pos: i }); i++; continue; }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '>=', '<=', '&&', '||'].includes(two)) { out.push({ t: 'op', text: two, pos: i }); i += 2; continue; }
    if ('=<>!'.includes(c)) { out.push({ t: 'op', text: c, pos: i }); i++; continue; }
    const num = sticky(NUM_RE, src, i);
    if (num) { out.push({ t: 'num', text: num[0], pos: i }); i += num[0].length; continue; }
    const name = sticky(NAME_RE, src, i);
    if (name) {
      const upper = name[0].toUpperCase();
      if (KEYWORDS.has(upper)) { out.push({ t: 'word', text: name[0], pos: i, value: upper }); i += name[0].length; continue; }
      const path: PathSegment[] = [name[0]];
      let j = i + name[0].length;
      for (;;) {
        const seg = sticky(SEGMENT_RE, src, j);
        if (seg) { path.push(seg[1]!); j += seg[0].length; continue; }
        const idx = sticky(INDEX_RE, src, j);
        if (idx) { path.push(Number(idx[1])); j += idx[0].length; continue; }
        break;
      }
      if (src[j] === '.') throw new ExpressionError(`attribute path ${JSON.stringify(src.slice(i, j + 1))} at position ${i} has an empty or invalid name after "." (position ${j})`, j);
      out.push({ t: 'attr', text: src.slice(i, j), pos: i, path });
      i = j;
      continue;
    }
    throw new ExpressionError(`unexpected character ${JSON.stringify(c)} at position ${i}`, i);
  }
  out.push({ t: 'end', text: '', pos: src.length });
  return out;
}

const SYMBOL_CMP: Record<string, Comparator> = { '==': '==', '=': '==', '!=': '!=', '>': '>', '>=': '>=', '<': '<', '<=': '<=' };

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok { return this.toks[this.i]!; }
  private next(): Tok { return this.toks[this.i++]!; }
  private isWord(w: string, at = this.i): boolean { const t = this.toks[at]; return t?.t === 'word' && t.value === w; }
  private isOp(o: string): boolean { const t = this.peek(); return t.t === 'op' && t.text === o; }
  private fail(tok: Tok, expected: string): never {
    throw new ExpressionError(`unexpected ${describe(tok)} at position ${tok.pos}: expected ${expected}`, tok.pos);
  }

  parse(): Expr {
    const e = this.or();
    const t = this.peek();
    if (t.t !== 'end') this.fail(t, 'AND, OR or the end of the expression');
    return e;
  }

  private enter(tok: Tok): void {
    if (++this.depth > MAX_DEPTH) throw new ExpressionError(`expression nested more than ${MAX_DEPTH} deep at position ${tok.pos}`, tok.pos);
  }

  private or(): Expr {
    const items = [this.and()];
    while (this.isWord('OR') || this.isOp('||')) { this.i++; items.push(this.and()); }
    return items.length === 1 ? items[0]! : { op: 'or', items };
  }

  private and(): Expr {
    const items = [this.unary()];
    while (this.isWord('AND') || this.isOp('&&')) { this.i++; items.push(this.unary()); }
    return items.length === 1 ? items[0]! : { op: 'and', items };
  }

  private unary(): Expr {
    const t = this.peek();
    if (this.isWord('NOT') || this.isOp('!')) {
      this.i++;
      this.enter(t);
      const expr = this.unary();
      this.depth--;
      return { op: 'not', expr };
    }
    if (t.t === 'lp') {
      this.i++;
      this.enter(t);
      if (this.peek().t === 'rp') this.fail(this.peek(), 'an expression inside the parentheses');
      const e = this.or();
      if (this.peek().t !== 'rp') this.fail(this.peek(), `")" to close "(" at position ${t.pos}`);
      this.i++;
      this.depth--;
      return e;
    }
    return this.comparison();
  }

  private scalar(): Scalar {
    const t = this.next();
    if (t.t === 'str') return t.value!;
    if (t.t === 'num') return Number(t.text);
    if (t.t === 'word' && t.value === 'TRUE') return true;
    if (t.t === 'word' && t.value === 'FALSE') return false;
    if (t.t === 'word' && t.value === 'NULL') return null;
    return this.fail(t, 'a string, number, true, false or null');
  }

  private operand(): { operand: Operand; tok: Tok } {
    const tok = this.peek();
    if (tok.t === 'attr') { this.i++; return { operand: { kind: 'attr', path: tok.path! }, tok }; }
    if (tok.t === 'lb') {
      this.i++;
      const items: Scalar[] = [];
      if (this.peek().t === 'rb') { this.i++; return { operand: { kind: 'list', items }, tok }; }
      for (;;) {
        if (this.peek().t === 'lb') this.fail(this.peek(), 'a string, number, true, false or null (lists do not nest)');
        items.push(this.scalar());
        const sep = this.next();
        if (sep.t === 'rb') break;
        if (sep.t !== 'comma') this.fail(sep, `"," or "]" to close the list opened at position ${tok.pos}`);
      }
      return { operand: { kind: 'list', items }, tok };
    }
    if (tok.t === 'end') this.fail(tok, 'an attribute or a value');
    if (tok.t !== 'str' && tok.t !== 'num' && tok.t !== 'word') this.fail(tok, 'an attribute or a value');
    if (tok.t === 'word' && !['TRUE', 'FALSE', 'NULL'].includes(tok.value!)) this.fail(tok, 'an attribute or a value (keywords are not attribute names)');
    return { operand: { kind: 'lit', value: this.scalar() }, tok };
  }

  private comparator(): Comparator | undefined {
    const t = this.peek();
    if (t.t === 'op' && SYMBOL_CMP[t.text]) { this.i++; return SYMBOL_CMP[t.text]; }
    if (this.isWord('HAS') || this.isWord('CONTAINS') || this.isWord('IN')) { this.i++; return t.value as Comparator; }
    if (this.isWord('NOT')) {
      if (!this.isWord('IN', this.i + 1)) this.fail(this.toks[this.i + 1]!, 'IN after NOT');
      this.i += 2;
      return 'NOT IN';
    }
    return undefined;
  }

  private comparison(): Expr {
    const { operand: left, tok: leftTok } = this.operand();
    const opTok = this.peek();
    const cmp = this.comparator();
    if (!cmp) {
      if (left.kind === 'lit' && typeof left.value === 'boolean') return { op: 'const', value: left.value };
      if (left.kind === 'attr') {
        this.fail(opTok, `a comparison after attribute ${JSON.stringify(leftTok.text)} (e.g. ${leftTok.text} == true or ${leftTok.text} != null)`);
      }
      this.fail(opTok, `a comparison after ${describe(leftTok)}`);
    }
    const rightTok = this.peek();
    const { operand: right } = this.operand();
    checkTypes(cmp, opTok, left, leftTok, right, rightTok);
    return { op: 'cmp', cmp, left, right };
  }
}

/** Literal operands must fit their comparator; attributes are checked when evaluating (a mismatch is false). */
function checkTypes(cmp: Comparator, opTok: Tok, left: Operand, leftTok: Tok, right: Operand, rightTok: Tok): void {
  const bad = (tok: Tok, want: string): never => {
    throw new ExpressionError(`${describe(tok)} at position ${tok.pos} cannot be used with ${cmp} (position ${opTok.pos}): ${want}`, tok.pos);
  };
  const listSide = cmp === 'IN' || cmp === 'NOT IN' ? 'right' : cmp === 'HAS' ? 'left' : undefined;
  for (const [side, o, tok] of [['left', left, leftTok], ['right', right, rightTok]] as const) {
    if (side === listSide) {
      if (o.kind === 'lit') bad(tok, `${side === 'right' ? 'the right' : 'the left'} side must be a list like ["a","b"] or an array attribute`);
      continue;
    }
    if (o.kind === 'list') bad(tok, `a list is only allowed ${listSide === undefined ? 'with IN, NOT IN (right) or HAS (left)' : `on the ${listSide} of ${cmp}`}`);
    if (o.kind !== 'lit') continue;
    if ((cmp === '>' || cmp === '>=' || cmp === '<' || cmp === '<=') && typeof o.value !== 'number') bad(tok, 'ordering compares numbers');
    if (cmp === 'CONTAINS' && typeof o.value !== 'string') bad(tok, 'CONTAINS compares strings');
  }
}

export function parseExpression(src: string): Expr {
  if (!src.trim()) throw new ExpressionError('empty expression', 0);
  return new Parser(tokenize(src)).parse();
}

function lookup(obj: unknown, path: PathSegment[]): unknown {
  let cur = obj;
  for (const k of path) {
    if (typeof k === 'number') {
      if (!Array.isArray(cur) || k >= cur.length) return null;
      cur = cur[k];
    } else {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.prototype.hasOwnProperty.call(cur, k)) return null;
      cur = (cur as Record<string, unknown>)[k];
    }
  }
  return cur === undefined ? null : cur;
}

function value(o: Operand, attrs: unknown): unknown {
  return o.kind === 'attr' ? lookup(attrs, o.path) : o.kind === 'lit' ? o.value : o.items;
}

const DECIMAL = /^-?\d+(?:\.\d+)?$/;

/** A number, or a plain decimal string as a number; otherwise undefined. */
function numeric(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && DECIMAL.test(v)) return Number(v);
  return undefined;
}

function eq(a: unknown, b: unknown): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === 'number' && typeof b === 'string') return a === numeric(b);
  if (typeof a === 'string' && typeof b === 'number') return numeric(a) === b;
  if (typeof a === 'object' || typeof b === 'object') return false;
  return a === b;
}

function compare(cmp: Comparator, a: unknown, b: unknown): boolean {
  switch (cmp) {
    case '==': return eq(a, b);
    case '!=': return !eq(a, b);
    case '>': case '>=': case '<': case '<=': {
      const x = numeric(a);
      const y = numeric(b);
      if (x === undefined || y === undefined) return false;
      return cmp === '>' ? x > y : cmp === '>=' ? x >= y : cmp === '<' ? x < y : x <= y;
    }
    case 'IN': return Array.isArray(b) && b.some((item) => eq(a, item));
    case 'NOT IN': return !compare('IN', a, b);
    case 'HAS': return compare('IN', b, a);
    case 'CONTAINS': return typeof a === 'string' && typeof b === 'string' && a.includes(b);
  }
}

export function evaluate(e: Expr, attrs: unknown): boolean {
  switch (e.op) {
    case 'and': return e.items.every((x) => evaluate(x, attrs));
    case 'or': return e.items.some((x) => evaluate(x, attrs));
    case 'not': return !evaluate(e.expr, attrs);
    case 'const': return e.value;
    case 'cmp': return compare(e.cmp, value(e.left, attrs), value(e.right, attrs));
  }
}

/** If the expression pins a top-level attribute to one string (alone or inside an AND), that value: used to hit an index. */
export function pinnedValue(e: Expr, attr: string): string | undefined {
  if (e.op === 'cmp' && e.cmp === '==') {
    const pinned = (a: Operand, b: Operand) =>
      a.kind === 'attr' && a.path.length === 1 && a.path[0] === attr && b.kind === 'lit' && typeof b.value === 'string' ? b.value : undefined;
    return pinned(e.left, e.right) ?? pinned(e.right, e.left);
  }
  if (e.op === 'and') {
    for (const item of e.items) {
      const v = pinnedValue(item, attr);
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

/** The operator's Task protection (`UNSTICK_PROTECT_TASKS`), parsed once. */
export interface CompiledProtection {
  readonly source: string;
  readonly expr: Expr;
}

/** Parses a protection expression; throws ExpressionError naming the offending token and its position. */
export function compileProtection(source: string): CompiledProtection {
  return { source, expr: parseExpression(source) };
}

/** True when the Task's attributes match the protection: such a Task is never written. No protection: false. */
export function isProtected(p: CompiledProtection | undefined, attributes: Record<string, unknown>): boolean {
  return p !== undefined && evaluate(p.expr, attributes);
}

const CACHE_LIMIT = 32;
const cache = new Map<string, CompiledProtection | ExpressionError>();

/**
 * The compiled protection for a source string kept in serialisable settings (cached: parsed once per process);
 * undefined for an unset or blank source. A bad source throws its ExpressionError every time.
 */
export function protectionFromSource(source: string | undefined): CompiledProtection | undefined {
  if (source === undefined || source.trim() === '') return undefined;
  let hit = cache.get(source);
  if (hit === undefined) {
    try {
      hit = compileProtection(source);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      hit = err;
    }
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(source, hit);
  }
  if (hit instanceof ExpressionError) throw hit;
  return hit;
}
