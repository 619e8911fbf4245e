// The TaskRouter-style expression language: parsing, evaluation, errors with positions and the protection API
// (tables; the properties are in expression.property.test.ts).
import assert from 'node:assert/strict';
import {
  ExpressionError, MAX_DEPTH, compileProtection, evaluate, isProtected, parseExpression, pinnedValue, protectionFromSource,
} from '../../src/policy/expression';
import type { Comparator, Expr, Operand, PathSegment, Scalar } from '../../src/policy/expression';
import { A } from './expressionAttrs';

const ev = (src: string, attrs: unknown) => evaluate(parseExpression(src), attrs);

describe('policy: TaskRouter expressions', () => {
  describe('evaluate (table)', () => {
    const cases: [string, boolean][] = [
      // equality, both spellings, strings / numbers / booleans
      ['taskType == "callback"', true],
      ["taskType = 'callback'", true],
      ['taskType == "voice"', false],
      ['taskType != "voice"', true],
      ['taskType != "callback"', false],
      ['priority == 3', true],
      ['priority == 3.0', true],
      ['priority != 3', false],
      ['vip == true', true],
      ['vip == false', false],
      ['off == false', true],
      ['vip != false', true],
      // string vs number: a plain decimal string equals its number, nothing looser
      ['score == 7', true],
      ['priority == "3"', true],
      ['"3" == priority', true],
      ['hour == 8', true],
      ['empty == 0', false],
      ['zero == ""', false],
      ['hex == 16', false],
      ['priority == " 3"', false],
      ['vip == "true"', false],
      ['vip == 1', false],
      ['zero == false', false],
      // missing = null: `x != null` means present and not null
      ['missing == null', true],
      ['missing != null', false],
      ['nothing == null', true],
      ['nothing != null', false],
      ['taskType != null', true],
      ['zero != null', true],
      ['empty != null', true],
      ['off != null', true],
      ['tags != null', true],
      ['conversations != null', true],
      ['missing != "x"', true],
      ['missing == "x"', false],
      ['missing == false', false],
      ['missing == 0', false],
      ['missing == missing2', true],
      ['null == null', true],
      // nested paths, array indices, through non-objects, own properties only
      ['conversations.external_contact != null', true],
      ['conversations.external_contact == "+15551230000"', true],
      ['conversations.nested.deep == "x"', true],
      ['conversations.missing.deep == null', true],
      ['taskType.length == null', true],
      ['tags.length == null', true],
      ['tags[0] == "a"', true],
      ['tags[2] == 3', true],
      ['tags[3] == null', true],
      ['calls[1].sid == "CA2"', true],
      ['calls.sid == null', true],
      ['priority[0] == null', true],
      ['conversations[0] == null', true],
      ['constructor == null', true],
      ['toString != null', false],
      ['conversations.hasOwnProperty == null', true],
      ['__proto__ == null', true],
      // ordering: numbers and plain decimal strings
      ['priority > 2', true],
      ['priority > 3', false],
      ['priority >= 3', true],
      ['priority < 3', false],
      ['priority <= 3', true],
      ['neg < -2', true],
      ['neg > -3', true],
      ['score > 6.5', true],
      ['hour >= 8', true],
      ['hour < 0008', false],
      ['hour < 0800', true],
      ['empty < 1', false],
      ['empty >= 0', false],
      ['hex > 1', false],
      ['vip > 0', false],
      ['nums > 0', false],
      ['missing > 0', false],
      ['missing < 0', false],
      ['nothing <= 0', false],
      ['1 < 2', true],
      ['2 <= priority', true],
      // IN / NOT IN with lists and array attributes
      ['taskType IN ["callback","voicemail"]', true],
      ['taskType IN ["voice"]', false],
      ['taskType IN []', false],
      ['taskType NOT IN ["voice"]', true],
      ['taskType NOT IN ["callback","voicemail"]', false],
      ['taskType NOT IN []', true],
      ['priority IN [1, 2, 3]', true],
      ['priority IN ["3"]', true],
      ['score IN [7]', true],
      ['missing IN ["a"]', false],
      ['missing NOT IN ["a"]', true],
      ['missing IN [null]', true],
      ['nothing IN [null, "x"]', true],
      ['vip IN [true]', true],
      ['"a" IN tags', true],
      ['"z" IN tags', false],
      ['3 IN tags', true],
      ['"3" IN tags', true],
      ['"a" NOT IN tags', false],
      ['"a" IN missing', false],
      ['"a" NOT IN missing', true],
      ['"c" IN taskType', false],
      ['tags IN ["a"]', false],
      // HAS: an array (attribute or list) with an equal element
      ['tags HAS "a"', true],
      ['tags HAS "z"', false],
      ['tags HAS 3', true],
      ['nums HAS "2"', true],
      ['taskType HAS "callback"', false],
      ['missing HAS "a"', false],
      ['["x", "callback"] HAS taskType', true],
      ['tags HAS missing', false],
      // CONTAINS: substrings of strings only
      ['email CONTAINS "@example.com"', true],
      ['email CONTAINS "@other"', false],
      ['email CONTAINS ""', true],
      ['taskType CONTAINS "CALL"', false],
      ['tags CONTAINS "a"', false],
      ['priority CONTAINS "3"', false],
      ['missing CONTAINS "a"', false],
      ['"callback-queue" CONTAINS taskType', true],
      // constants, logic, precedence
      ['true', true],
      ['false', false],
      ['TRUE', true],
      ['1 == 1', true],
      ['0 != 1', true],
      ['"apple" != "orange"', true],
      ['NOT false', true],
      ['NOT NOT true', true],
      ['!(priority == 3)', false],
      ['! priority == 3', false],
      ['NOT priority == 3', false],
      ['NOT taskType IN ["callback"]', false],
      ['true OR false AND false', true], // AND binds tighter than OR
      ['(true OR false) AND false', false],
      ['false AND false OR true', true],
      ['NOT true OR true', true], // NOT binds tighter than OR
      ['NOT (true OR true)', false],
      ['NOT true AND false', false],
      ['NOT (true AND false)', true],
      ['true && false || true', true],
      ['priority == 3 and vip == true', true],
      ['priority == 3 AnD vip == false', false],
      ['taskType == "voice" or vip == true', true],
      ['taskType == "voice" Or vip == false', false],
      ['not vip == false', true],
      ['taskType in ["callback"] and "a" in tags and tags has "b"', true],
      ['taskType Not In ["callback"]', false],
      ['email contains "ann"', true],
      ['vip == TRUE AND nothing == NULL', true],
      ['((((priority == 3))))', true],
      ['  priority==3&&vip==true  ', true],
      // escapes in strings
      ['"a\\"b" == "a\\"b"', true],
      ["'it\\'s' CONTAINS \"'\"", true],
      ['"back\\\\slash" CONTAINS "\\\\"', true],
      // the operators' example
      ['taskType IN ["callback","voicemail"] OR conversations.external_contact != null', true],
    ];
    for (const [src, want] of cases) {
      it(`${src} → ${want}`, () => assert.equal(ev(src, A), want));
    }
    it('a missing attribute equals null, and so does one that is present and null', () => {
      for (const attrs of [{}, { x: null }]) {
        assert.equal(ev('x == null', attrs), true);
        assert.equal(ev('x != null', attrs), false);
      }
      assert.equal(ev('x != null', { x: 0 }), true);
    });
    it('evaluates against anything: non-objects have no attributes', () => {
      for (const attrs of [null, undefined, 42, 'str', [1, 2], true]) {
        assert.equal(ev('x == null', attrs), true);
        assert.equal(ev('x != null', attrs), false);
        assert.equal(ev('length == null', attrs), true);
      }
    });
  });

  describe('parse: the tree', () => {
    const attr = (...path: PathSegment[]): Operand => ({ kind: 'attr', path });
    const lit = (value: Scalar): Operand => ({ kind: 'lit', value });
    const cmp = (c: Comparator, left: Operand, right: Operand): Expr => ({ op: 'cmp', cmp: c, left, right });
    const cases: [string, Expr][] = [
      ['a = 1', cmp('==', attr('a'), lit(1))],
      ['a.b[2].c != "x"', cmp('!=', attr('a', 'b', 2, 'c'), lit('x'))],
      ['a NOT IN [1, "2", true, null]', cmp('NOT IN', attr('a'), { kind: 'list', items: [1, '2', true, null] })],
      ['"x" in tags', cmp('IN', lit('x'), attr('tags'))],
      ['a == 1 OR b == 2 AND c == 3', { op: 'or', items: [cmp('==', attr('a'), lit(1)), { op: 'and', items: [cmp('==', attr('b'), lit(2)), cmp('==', attr('c'), lit(3))] }] }],
      ['a == 1 AND b == 2 AND c == 3', { op: 'and', items: [cmp('==', attr('a'), lit(1)), cmp('==', attr('b'), lit(2)), cmp('==', attr('c'), lit(3))] }],
      ['NOT a == 1 AND b == 2', { op: 'and', items: [{ op: 'not', expr: cmp('==', attr('a'), lit(1)) }, cmp('==', attr('b'), lit(2))] }],
      ['NOT (a == 1 AND b == 2)', { op: 'not', expr: { op: 'and', items: [cmp('==', attr('a'), lit(1)), cmp('==', attr('b'), lit(2))] } }],
      ['false', { op: 'const', value: false }],
      ['x.and == 1', cmp('==', attr('x', 'and'), lit(1))],
      ['a >= -0.5', cmp('>=', attr('a'), lit(-0.5))],
    ];
    for (const [src, want] of cases) it(src, () => assert.deepEqual(parseExpression(src), want));
    it('a long AND chain stays flat (no deep recursion when evaluating)', () => {
      const src = Array.from({ length: 5000 }, (_, i) => `a${i} == null`).join(' AND ');
      const e = parseExpression(src);
      assert.ok(e.op === 'and' && e.items.length === 5000);
      assert.equal(evaluate(e, {}), true);
    });
  });

  describe('parse: errors name the token and its position', () => {
    const cases: [string, RegExp, number][] = [
      ['', /^empty expression$/, 0],
      ['   ', /^empty expression$/, 0],
      // lists
      ['x IN [1 2]', /^unexpected "2" at position 8: expected "," or "]" to close the list opened at position 5$/, 8],
      ['x IN ["a" "b"]', /^unexpected string "b" at position 10: expected "," or "]"/, 10],
      ['x IN [1, 2', /^unexpected end of expression at position 10: expected "," or "]"/, 10],
      ['x IN [1,', /^unexpected end of expression at position 8: expected a string, number/, 8],
      ['x IN [1,]', /^unexpected "\]" at position 8: expected a string, number/, 8],
      ['x IN [,1]', /^unexpected "," at position 6/, 6],
      ['x IN [[1]]', /^unexpected "\[" at position 6: .*lists do not nest/, 6],
      ['x IN [y]', /^unexpected "y" at position 6: expected a string, number/, 6],
      ['x IN "a"', /^string "a" at position 5 cannot be used with IN \(position 2\): the right side must be a list/, 5],
      ['x NOT IN 3', /^"3" at position 9 cannot be used with NOT IN/, 9],
      ['x == [1]', /^"\[" at position 5 cannot be used with ==.*a list is only allowed/, 5],
      ['[1] IN x', /^"\[" at position 0 cannot be used with IN.*only allowed on the right of IN/, 0],
      ['x HAS [1]', /^"\[" at position 6 cannot be used with HAS.*only allowed on the left of HAS/, 6],
      ['"a" HAS x', /^string "a" at position 0 cannot be used with HAS.*the left side must be a list/, 0],
      // strings
      ['x == "abc', /^unterminated string at position 5: "abc has no closing "$/, 5],
      ["x == 'abc\\'", /^unterminated string at position 5/, 5],
      ['x == "', /^unterminated string at position 5/, 5],
      // trailing garbage
      ['x == 1 )', /^unexpected "\)" at position 7: expected AND, OR or the end of the expression$/, 7],
      ['x == 1 y == 2', /^unexpected "y" at position 7: expected AND, OR/, 7],
      ['x == 12abc', /^unexpected "abc" at position 7/, 7],
      ['x == 1 2', /^unexpected "2" at position 7/, 7],
      ['x == 1 NOT', /^unexpected "NOT" at position 7/, 7],
      ['true false', /^unexpected "false" at position 5/, 5],
      // parentheses
      ['()', /^unexpected "\)" at position 1: expected an expression inside the parentheses$/, 1],
      ['x == 1 AND ()', /^unexpected "\)" at position 12: expected an expression inside/, 12],
      ['(x == 1', /^unexpected end of expression at position 7: expected "\)" to close "\(" at position 0$/, 7],
      ['x == (1)', /^unexpected "\(" at position 5: expected an attribute or a value$/, 5],
      [')', /^unexpected "\)" at position 0/, 0],
      // incomplete or misplaced operators
      ['x ==', /^unexpected end of expression at position 4: expected an attribute or a value$/, 4],
      ['x == 1 AND', /^unexpected end of expression at position 10/, 10],
      ['OR x == 1', /^unexpected "OR" at position 0: expected an attribute or a value \(keywords are not attribute names\)$/, 0],
      ['x == 1 AND OR y == 1', /^unexpected "OR" at position 11/, 11],
      ['in == 1', /^unexpected "in" at position 0: .*keywords are not attribute names/, 0],
      ['x == AND', /^unexpected "AND" at position 5/, 5],
      ['x NOT 5', /^unexpected "5" at position 6: expected IN after NOT$/, 6],
      ['x NOT', /^unexpected end of expression at position 5: expected IN after NOT$/, 5],
      ['== 1', /^unexpected "==" at position 0/, 0],
      ['x === 1', /^unexpected "=" at position 4/, 4],
      ['x <> 1', /^unexpected ">" at position 3/, 3],
      ['NOT', /^unexpected end of expression at position 3/, 3],
      // bare values
      ['vip', /^unexpected end of expression at position 3: expected a comparison after attribute "vip" \(e.g. vip == true or vip != null\)$/, 3],
      ['vip AND x == 1', /^unexpected "AND" at position 4: expected a comparison after attribute "vip"/, 4],
      ['"x"', /^unexpected end of expression at position 3: expected a comparison after string "x"$/, 3],
      ['1', /^unexpected end of expression at position 1: expected a comparison after "1"$/, 1],
      ['null', /expected a comparison after "null"/, 4],
      // types of literal operands
      ['x > "5"', /^string "5" at position 4 cannot be used with > \(position 2\): ordering compares numbers$/, 4],
      ['x <= true', /^"true" at position 5 cannot be used with <=.*ordering compares numbers/, 5],
      ['x < null', /^"null" at position 4 cannot be used with <.*ordering compares numbers/, 4],
      ['x CONTAINS 1', /^"1" at position 11 cannot be used with CONTAINS \(position 2\): CONTAINS compares strings$/, 11],
      ['null CONTAINS x', /^"null" at position 0 cannot be used with CONTAINS/, 0],
      // characters and paths
      ['x == 1 # comment', /^unexpected character "#" at position 7$/, 7],
      ['x-y == 1', /^unexpected "-" at position 1|unexpected character "-" at position 1/, 1],
      ['x == 1.', /^unexpected character "\." at position 6$/, 6],
      ['x == .5', /^unexpected character "\." at position 5$/, 5],
      ['a. == 1', /^attribute path "a\." at position 0 has an empty or invalid name after "\." \(position 1\)$/, 1],
      ['a..b == 1', /^attribute path "a\." at position 0 has an empty or invalid name/, 1],
      ['tags.0 == 1', /^attribute path "tags\." at position 0 has an empty or invalid name after "\." \(position 4\)$/, 4],
      ['a[x] == 1', /^unexpected "\[" at position 1: expected a comparison after attribute "a"/, 1],
      ['x == 1 && && y == 1', /^unexpected "&&" at position 10/, 10],
      ['x & y', /^unexpected character "&" at position 2$/, 2],
      ['x == 1 | y', /^unexpected character "\|" at position 7$/, 7],
    ];
    for (const [src, message, position] of cases) {
      it(JSON.stringify(src), () => {
        assert.throws(() => parseExpression(src), (err: unknown) => {
          assert.ok(err instanceof ExpressionError, `an ExpressionError, got ${String(err)}`);
          assert.match(err.message, message);
          assert.equal(err.position, position);
          return true;
        });
      });
    }
    it(`nesting deeper than ${MAX_DEPTH} is refused (not a stack overflow)`, () => {
      for (const src of ['('.repeat(100_000) + 'x == 1' + ')'.repeat(100_000), 'NOT '.repeat(100_000) + 'true', '!'.repeat(1000) + 'true']) {
        assert.throws(() => parseExpression(src), (err: unknown) => err instanceof ExpressionError && /nested more than 64 deep at position \d+/.test(err.message));
      }
      assert.equal(ev('('.repeat(MAX_DEPTH) + 'true' + ')'.repeat(MAX_DEPTH), {}), true);
    });
  });

  describe('pinnedValue', () => {
    const cases: [string, string | undefined][] = [
      ['call_sid == "CA1"', 'CA1'],
      ['"CA1" == call_sid', 'CA1'],
      ['call_sid = "CA1" AND x == 1', 'CA1'],
      ['x == 1 AND call_sid == "CA1"', 'CA1'],
      ['call_sid == "CA1" OR x == 1', undefined],
      ['call_sid != "CA1"', undefined],
      ['call_sid == 1', undefined],
      ['a.call_sid == "CA1"', undefined],
      ['NOT call_sid == "CA1"', undefined],
    ];
    for (const [src, want] of cases) it(src, () => assert.equal(pinnedValue(parseExpression(src), 'call_sid'), want));
  });

  describe('protection', () => {
    const source = 'taskType IN ["callback","voicemail"] OR conversations.external_contact != null';
    it('compileProtection keeps the source; isProtected evaluates it', () => {
      const p = compileProtection(source);
      assert.equal(p.source, source);
      assert.equal(isProtected(p, { taskType: 'voicemail' }), true);
      assert.equal(isProtected(p, { taskType: 'voice', conversations: { external_contact: '+1555' } }), true);
      assert.equal(isProtected(p, { taskType: 'voice', conversations: { external_contact: null } }), false);
      assert.equal(isProtected(p, { taskType: 'voice', conversations: {} }), false);
      assert.equal(isProtected(p, { taskType: 'voice' }), false);
      assert.equal(isProtected(p, {}), false);
    });
    it('no protection protects nothing', () => assert.equal(isProtected(undefined, { taskType: 'callback' }), false));
    it('compileProtection throws ExpressionError with the position', () => {
      assert.throws(() => compileProtection('taskType IN ["a" "b"]'), (err: unknown) => err instanceof ExpressionError && err.position === 17 && /"b"/.test(err.message));
    });
    it('protectionFromSource: undefined for unset or blank, the same object for the same source, the error every time', () => {
      assert.equal(protectionFromSource(undefined), undefined);
      assert.equal(protectionFromSource(''), undefined);
      assert.equal(protectionFromSource('  '), undefined);
      const a = protectionFromSource(source);
      assert.ok(a);
      assert.equal(protectionFromSource(source), a);
      assert.deepEqual(a, compileProtection(source));
      for (let i = 0; i < 2; i++) assert.throws(() => protectionFromSource('x =='), ExpressionError);
    });
    it('the cache stays bounded and still answers correctly after eviction', () => {
      for (let i = 0; i < 200; i++) assert.equal(isProtected(protectionFromSource(`n == ${i}`), { n: i }), true);
      assert.equal(isProtected(protectionFromSource(source), { taskType: 'callback' }), true);
    });
  });
});
