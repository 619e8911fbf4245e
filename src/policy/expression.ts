/**
 * A subset of TaskRouter's expression language, for `EvaluateTaskAttributes`:
 * comparisons `== = != > >= < <=`, `HAS`, `CONTAINS`, `IN`, `NOT IN`, boolean `and`/`AND`/`&&`, `or`/`OR`/`||`,
 * `NOT`/`!`, parentheses, string ('…' or "…"), number, boolean and null literals, lists `[…]`, dotted attribute paths.
 */

type Literal = string | number | boolean | null | Literal[];
export type Expr =
  | { op: 'and' | 'or'; left: Expr; right: Expr }
  | { op: 'not'; expr: Expr }
  | { op: 'cmp'; cmp: string; path: string[]; value: Literal }
  | { op: 'cmpRev'; cmp: 'IN'; value: Literal; path: string[] }
  | { op: 'truthy'; path: string[] }
  | { op: 'const'; value: boolean };

export class ExpressionError extends Error {}

interface Tok {
  t: 'str' | 'num' | 'id' | 'op' | 'lp' | 'rp' | 'lb' | 'rb' | 'comma';
  v: string;
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
      if (j >= src.length) throw new ExpressionError(`unterminated string at ${i}`);
      out.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    if (c === '(') { out.push({ t: 'lp', v: c }); i++; continue; }
    if (c === ')') { out.push({ t: 'rp', v: c }); i++; continue; }
    if (c === '[') { out.push({ t: 'lb', v: c }); i++; continue; }
    if (c === ']') { out.push({ t: 'rb', v: c }); i++; continue; }
    if (c === ',') { out.push({ t: 'comma', v: c }); i++; continue; }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '>=', '<=', '&&', '||'].includes(two)) { out.push({ t: 'op', v: two }); i += 2; continue; }
    if ('=<>!'.includes(c)) { out.push({ t: 'op', v: c }); i++; continue; }
    const num = /^-?\d+(\.\d+)?/.exec(src.slice(i));
    if (num) { out.push({ t: 'num', v: num[0] }); i += num[0].length; continue; }
    const id = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(src.slice(i));
    if (id) { out.push({ t: 'id', v: id[0] }); i += id[0].length; continue; }
    throw new ExpressionError(`unexpected character ${JSON.stringify(c)} at ${i}`);
  }
  return out;
}

const CMP = new Set(['==', '=', '!=', '>', '>=', '<', '<=']);
const WORD_CMP = new Set(['HAS', 'CONTAINS', 'IN']);

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}
  private peek(): Tok | undefined { return this.toks[this.i]; }
  private word(): string | undefined {
    const t = this.peek();
    return t && t.t === 'id' ? t.v.toUpperCase() : undefined;
  }
  parse(): Expr {
    const e = this.or();
    if (this.i < this.toks.length) throw new ExpressionError(`unexpected ${this.peek()!.v}`);
    return e;
  }
  private or(): Expr {
    let left = this.and();
    while (this.word() === 'OR' || this.peek()?.v === '||') { this.i++; left = { op: 'or', left, right: this.and() }; }
    return left;
  }
  private and(): Expr {
    let left = this.unary();
    while (this.word() === 'AND' || this.peek()?.v === '&&') { this.i++; left = { op: 'and', left, right: this.unary() }; }
    return left;
  }
  private unary(): Expr {
    if (this.word() === 'NOT' || this.peek()?.v === '!') { this.i++; return { op: 'not', expr: this.unary() }; }
    if (this.peek()?.t === 'lp') {
      this.i++;
      const e = this.or();
      if (this.peek()?.t !== 'rp') throw new ExpressionError('missing )');
      this.i++;
      return e;
    }
    return this.comparison();
  }
  private literal(): Literal {
    const t = this.peek();
    if (!t) throw new ExpressionError('unexpected end of expression');
    this.i++;
    if (t.t === 'str') return t.v;
    if (t.t === 'num') return Number(t.v);
    if (t.t === 'lb') {
      const items: Literal[] = [];
      while (this.peek() && this.peek()!.t !== 'rb') {
        items.push(this.literal());
        if (this.peek()?.t === 'comma') this.i++;
      }
      if (this.peek()?.t !== 'rb') throw new ExpressionError('missing ]');
      this.i++;
      return items;
    }
    if (t.t === 'id') {
      const w = t.v.toLowerCase();
      if (w === 'true') return true;
      if (w === 'false') return false;
      if (w === 'null') return null;
    }
    throw new ExpressionError(`expected a literal, got ${t.v}`);
  }
  private comparison(): Expr {
    const t = this.peek();
    if (!t) throw new ExpressionError('unexpected end of expression');
    if (t.t !== 'id' || ['true', 'false', 'null'].includes(t.v.toLowerCase())) {
      // literal on the left: `"x" IN tags` or a bare constant
      const value = this.literal();
      if (this.word() === 'IN') {
        this.i++;
        const p = this.peek();
        if (!p || p.t !== 'id') throw new ExpressionError('expected an attribute after IN');
        this.i++;
        return { op: 'cmpRev', cmp: 'IN', value, path: p.v.split('.') };
      }
      if (value === true || value === false) return { op: 'const', value };
      throw new ExpressionError(`unexpected literal ${JSON.stringify(value)}`);
    }
    this.i++;
    const path = t.v.split('.');
    const op = this.peek();
    if (op && op.t === 'op' && CMP.has(op.v)) { this.i++; return { op: 'cmp', cmp: op.v === '=' ? '==' : op.v, path, value: this.literal() }; }
    const w = this.word();
    if (w && WORD_CMP.has(w)) { this.i++; return { op: 'cmp', cmp: w, path, value: this.literal() }; }
    if (w === 'NOT') {
      const save = this.i;
      this.i++;
      if (this.word() === 'IN') { this.i++; return { op: 'not', expr: { op: 'cmp', cmp: 'IN', path, value: this.literal() } }; }
      this.i = save;
    }
    return { op: 'truthy', path };
  }
}

export function parseExpression(src: string): Expr {
  if (!src.trim()) throw new ExpressionError('empty expression');
  return new Parser(tokenize(src)).parse();
}

function lookup(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function eq(a: unknown, b: Literal): boolean {
  if (typeof a === 'number' && typeof b === 'string' && b.trim() !== '' && Number.isFinite(Number(b))) return a === Number(b);
  if (typeof a === 'string' && typeof b === 'number') return Number(a) === b;
  return a === b;
}

export function evaluate(e: Expr, attrs: unknown): boolean {
  switch (e.op) {
    case 'and': return evaluate(e.left, attrs) && evaluate(e.right, attrs);
    case 'or': return evaluate(e.left, attrs) || evaluate(e.right, attrs);
    case 'not': return !evaluate(e.expr, attrs);
    case 'const': return e.value;
    case 'truthy': { const v = lookup(attrs, e.path); return v !== undefined && v !== null && v !== false; }
    case 'cmpRev': { const v = lookup(attrs, e.path); return Array.isArray(v) && v.some((x) => eq(x, e.value)); }
    case 'cmp': {
      const v = lookup(attrs, e.path);
      switch (e.cmp) {
        case '==': return eq(v, e.value);
        case '!=': return !eq(v, e.value); // a missing attribute is "not equal"
        case '>': case '>=': case '<': case '<=': {
          if (v === undefined || v === null || e.value === null || Array.isArray(e.value)) return false;
          const a = typeof v === 'number' ? v : Number(v);
          const b = typeof e.value === 'number' ? e.value : Number(e.value);
          if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
          return e.cmp === '>' ? a > b : e.cmp === '>=' ? a >= b : e.cmp === '<' ? a < b : a <= b;
        }
        case 'HAS': return Array.isArray(v) && v.some((x) => eq(x, e.value));
        case 'CONTAINS': return typeof v === 'string' && typeof e.value === 'string' && v.includes(e.value);
        case 'IN': return Array.isArray(e.value) && e.value.some((x) => eq(v, x));
        default: return false;
      }
    }
  }
}

/** If the expression pins `call_sid` to one value (alone or inside an AND), that value: used to hit an index. */
export function pinnedValue(e: Expr, attr: string): string | undefined {
  if (e.op === 'cmp' && e.cmp === '==' && e.path.length === 1 && e.path[0] === attr && typeof e.value === 'string') return e.value;
  if (e.op === 'and') return pinnedValue(e.left, attr) ?? pinnedValue(e.right, attr);
  return undefined;
}
