// Properties (fast-check) of the TaskRouter-style expression language that hold for generated expressions and
// attribute objects; the tables are in expression.test.ts.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ExpressionError, evaluate, parseExpression } from '../../src/policy/expression';
import { A } from './expressionAttrs';
import type { Comparator, Expr, Operand, PathSegment, Scalar } from '../../src/policy/expression';

describe('policy: TaskRouter expressions, properties', () => {
  const PATHS: PathSegment[][] = [['a'], ['b'], ['c'], ['o', 'a'], ['o', 'b'], ['t'], ['t', 0], ['t', 1], ['o'], ['missing']];
  const SCALARS: Scalar[] = [null, 0, 1, -1, 2.5, '0', '1', '2.5', '', 'a', 'b', 'A', ' 1', '0x1', 'a"b', "it's", 'back\\slash', true, false];
  const scalar = fc.constantFrom(...SCALARS);
  const value: fc.Arbitrary<unknown> = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }));
  const attrs = fc.record(
    { a: value, b: value, c: value, o: fc.oneof(value, fc.record({ a: value, b: value }, { requiredKeys: [] })), t: fc.array(scalar, { maxLength: 3 }) },
    { requiredKeys: [] },
  );
  const attrOp = fc.constantFrom(...PATHS).map((path): Operand => ({ kind: 'attr', path }));
  const lit = (arb: fc.Arbitrary<Scalar>) => arb.map((v): Operand => ({ kind: 'lit', value: v }));
  const list = fc.array(scalar, { maxLength: 4 }).map((items): Operand => ({ kind: 'list', items }));
  const num = fc.constantFrom(0, 1, -1, 2.5, 10);
  const str = fc.constantFrom('', 'a', 'b', '1', 'a"b');
  const scalarSide = fc.oneof(attrOp, lit(scalar));
  const cmp: fc.Arbitrary<Expr> = fc.oneof(
    fc.tuple(fc.constantFrom<Comparator>('==', '!='), scalarSide, scalarSide),
    fc.tuple(fc.constantFrom<Comparator>('>', '>=', '<', '<='), fc.oneof(attrOp, lit(num)), fc.oneof(attrOp, lit(num))),
    fc.tuple(fc.constantFrom<Comparator>('IN', 'NOT IN'), scalarSide, fc.oneof(attrOp, list)),
    fc.tuple(fc.constant<Comparator>('HAS'), fc.oneof(attrOp, list), scalarSide),
    fc.tuple(fc.constant<Comparator>('CONTAINS'), fc.oneof(attrOp, lit(str)), fc.oneof(attrOp, lit(str))),
  ).map(([c, left, right]): Expr => ({ op: 'cmp', cmp: c, left, right }));
  const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      cmp,
      fc.boolean().map((value): Expr => ({ op: 'const', value })),
      tie('expr').map((e): Expr => ({ op: 'not', expr: e })),
      fc.tuple(fc.constantFrom<'and' | 'or'>('and', 'or'), fc.array(tie('expr'), { minLength: 2, maxLength: 3 })).map(([op, items]): Expr => ({ op, items })),
    ),
  }));

  type Spell = (w: string) => string;
  const asIs: Spell = (w) => w;
  const quote = (s: string) => `"${s.replace(/[\\"]/g, (m) => `\\${m}`)}"`;
  const sc = (v: Scalar, kw: Spell = asIs) => (typeof v === 'string' ? quote(v) : v === null ? kw('null') : typeof v === 'boolean' ? kw(String(v)) : String(v));
  const operand = (o: Operand, kw: Spell = asIs) =>
    o.kind === 'lit' ? sc(o.value, kw)
      : o.kind === 'list' ? `[${o.items.map((v) => sc(v, kw)).join(', ')}]`
        : o.path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
  /** Renders a tree as source; `kw` spells each keyword (to test case-insensitivity). */
  const print = (e: Expr, kw: Spell = asIs): string => {
    switch (e.op) {
      case 'const': return kw(String(e.value));
      case 'not': return `${kw('NOT')} (${print(e.expr, kw)})`;
      case 'and': case 'or': return e.items.map((x) => `(${print(x, kw)})`).join(` ${kw(e.op.toUpperCase())} `);
      case 'cmp': {
        const op = e.cmp === 'NOT IN' ? `${kw('NOT')} ${kw('IN')}` : /^[A-Z]/.test(e.cmp) ? kw(e.cmp) : e.cmp;
        return `${operand(e.left, kw)} ${op} ${operand(e.right, kw)}`;
      }
    }
  };
  const run = (src: string, a: unknown) => evaluate(parseExpression(src), a);
  const opts = { numRuns: 300 };

  it('print then parse gives the same tree', () => {
    fc.assert(fc.property(expr, (e) => assert.deepEqual(parseExpression(print(e)), e)), opts);
  });
  it('keywords in any case mean the same', () => {
    const spell = fc.func(fc.constantFrom<(w: string) => string>((w) => w.toLowerCase(), (w) => w.toUpperCase(), (w) => w[0] + w.slice(1).toLowerCase()));
    fc.assert(fc.property(expr, spell, (e, f) => {
      let n = 0;
      assert.deepEqual(parseExpression(print(e, (w) => f(n++)(w))), e);
    }), opts);
  });
  it('NOT e ≡ !e', () => {
    fc.assert(fc.property(expr, attrs, (e, a) => run(`NOT (${print(e)})`, a) === !evaluate(e, a)), opts);
  });
  it('AND and OR commute', () => {
    fc.assert(fc.property(expr, expr, attrs, (x, y, a) => {
      const [p, q] = [print(x), print(y)];
      return run(`(${p}) AND (${q})`, a) === run(`(${q}) AND (${p})`, a)
        && run(`(${p}) OR (${q})`, a) === run(`(${q}) OR (${p})`, a)
        && run(`(${p}) AND (${q})`, a) === (evaluate(x, a) && evaluate(y, a));
    }), opts);
  });
  it('De Morgan', () => {
    fc.assert(fc.property(expr, expr, attrs, (x, y, a) => {
      const [p, q] = [print(x), print(y)];
      return run(`NOT ((${p}) AND (${q}))`, a) === run(`(NOT (${p})) OR (NOT (${q}))`, a)
        && run(`NOT ((${p}) OR (${q}))`, a) === run(`(NOT (${p})) AND (NOT (${q}))`, a);
    }), opts);
  });
  it('AND binds tighter than OR, NOT tighter than both', () => {
    fc.assert(fc.property(expr, expr, expr, attrs, (x, y, z, a) => {
      const [p, q, r] = [x, y, z].map((e) => `(${print(e)})`);
      return run(`${p} OR ${q} AND ${r}`, a) === run(`${p} OR (${q} AND ${r})`, a)
        && run(`NOT ${p} AND ${q}`, a) === run(`(NOT ${p}) AND ${q}`, a)
        && run(`NOT ${p} OR ${q}`, a) === run(`(NOT ${p}) OR ${q}`, a);
    }), opts);
  });
  it('x IN [v…] ≡ OR of equalities; NOT IN ≡ NOT IN; HAS ≡ IN reversed', () => {
    fc.assert(fc.property(attrOp, fc.array(scalar, { maxLength: 5 }), attrs, (x, vs, a) => {
      const xs = operand(x);
      const list = operand({ kind: 'list', items: vs });
      const inList = run(`${xs} IN ${list}`, a);
      const ors = vs.length === 0 ? false : run(vs.map((v) => `${xs} == ${sc(v)}`).join(' OR '), a);
      return inList === ors && run(`${xs} NOT IN ${list}`, a) === !inList && run(`${list} HAS ${xs}`, a) === inList;
    }), opts);
  });
  it('x != v ≡ NOT x == v, and a missing attribute behaves exactly like a null one', () => {
    fc.assert(fc.property(expr, attrs, fc.constantFrom('a', 'b', 'c', 'o', 't'), (e, a, k) => {
      const without: Record<string, unknown> = { ...a };
      delete without[k];
      return evaluate(e, without) === evaluate(e, { ...a, [k]: null });
    }), opts);
    fc.assert(fc.property(scalarSide, scalarSide, attrs, (l, r, a) =>
      evaluate({ op: 'cmp', cmp: '!=', left: l, right: r }, a) === !evaluate({ op: 'cmp', cmp: '==', left: l, right: r }, a)), opts);
  });
  it('== is symmetric', () => {
    fc.assert(fc.property(scalarSide, scalarSide, attrs, (l, r, a) =>
      evaluate({ op: 'cmp', cmp: '==', left: l, right: r }, a) === evaluate({ op: 'cmp', cmp: '==', left: r, right: l }, a)), opts);
  });
  it('evaluate never throws, whatever the attributes', () => {
    fc.assert(fc.property(expr, fc.jsonValue(), (e, a) => typeof evaluate(e, a) === 'boolean'), opts);
  });
  it('parse throws nothing but ExpressionError on random strings', () => {
    const check = (src: string) => {
      try {
        const e = parseExpression(src);
        assert.equal(typeof evaluate(e, A), 'boolean');
      } catch (err) {
        if (!(err instanceof ExpressionError)) throw err;
        assert.ok(err.position >= 0 && err.position <= src.length, `position ${err.position} in ${JSON.stringify(src)}`);
      }
    };
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), check), { numRuns: 1000 });
    const token = fc.constantFrom('a', 'b.c', 't[0]', 'x.', '==', '=', '!=', '>', '<=', 'IN', 'not', 'NOT IN', 'HAS', 'CONTAINS', 'AND', 'or',
      '&&', '||', '!', '(', ')', '[', ']', ',', '"s"', "'t", '"', '1', '-2.5', 'null', 'true', 'FALSE', '', ' ');
    fc.assert(fc.property(fc.array(token, { maxLength: 12 }), fc.boolean(), (ts, spaced) => check(ts.join(spaced ? ' ' : ''))), { numRuns: 3000 });
  });
});
