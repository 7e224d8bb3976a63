import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { disabledBy, globToRegExp } from '../../src/fileFilter';

describe('globToRegExp', () => {
  it('keeps * and ? inside one path segment', () => {
    assert.ok(globToRegExp('*.env').test('prod.env'));
    assert.ok(!globToRegExp('*.env').test('a/prod.env'));
    assert.ok(globToRegExp('secret_?.py').test('secret_1.py'));
    assert.ok(!globToRegExp('secret_?.py').test('secret_12.py'));
  });
  it('lets ** span segments, or none', () => {
    const re = globToRegExp('**/secrets/**');
    assert.ok(re.test('secrets/key.pem'));
    assert.ok(re.test('a/b/secrets/c/key.pem'));
    assert.ok(!re.test('a/secretsx/key.pem'));
  });
  it('knows {a,b} and [set] and escapes the rest', () => {
    assert.ok(globToRegExp('*.{env,pem}').test('x.pem'));
    assert.ok(!globToRegExp('*.{env,pem}').test('x.txt'));
    assert.ok(globToRegExp('file[0-9].py').test('file7.py'));
    assert.ok(!globToRegExp('file[!0-9].py').test('file7.py'));
    assert.ok(globToRegExp('a+b(c).py').test('a+b(c).py'));
    assert.ok(!globToRegExp('a.py').test('axpy'));
  });
});

describe('disabledBy', () => {
  it('matches a name pattern anywhere and a path pattern from the workspace folder', () => {
    const file = { relative: 'src/config/prod.env', absolute: '/home/u/ws/src/config/prod.env' };
    assert.equal(disabledBy(['*.env'], file), '*.env');
    assert.equal(disabledBy(['src/**'], file), 'src/**');
    assert.equal(disabledBy(['config/*.env'], file), undefined);
    assert.equal(disabledBy(['/home/u/**'], file), '/home/u/**');
    assert.equal(disabledBy(['*.py', 3, '', null], file), undefined);
  });
  it('works with Windows paths', () => {
    assert.equal(disabledBy(['**/secrets/**'], { relative: 'a\\secrets\\k.txt', absolute: 'C:\\ws\\a\\secrets\\k.txt' }), '**/secrets/**');
  });
});
