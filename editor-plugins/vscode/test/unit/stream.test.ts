import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatStream, newChatId } from '../../src/chat/stream';

describe('ChatStream', () => {
  it('joins chunks in index order', () => {
    const s = new ChatStream('c1');
    assert.equal(s.add({ chatId: 'c1', index: 0, text: 'Hel' }), true);
    assert.equal(s.add({ chatId: 'c1', index: 1, text: 'lo' }), true);
    assert.equal(s.text, 'Hello');
  });

  it('holds a chunk that arrives early until the gap is filled', () => {
    const s = new ChatStream('c1');
    assert.equal(s.add({ chatId: 'c1', index: 1, text: 'b' }), false);
    assert.equal(s.text, '');
    assert.equal(s.add({ chatId: 'c1', index: 0, text: 'a' }), true);
    assert.equal(s.text, 'ab');
  });

  it('ignores duplicates, other chats and bad indexes', () => {
    const s = new ChatStream('c1');
    s.add({ chatId: 'c1', index: 0, text: 'a' });
    assert.equal(s.add({ chatId: 'c1', index: 0, text: 'a' }), false);
    assert.equal(s.add({ chatId: 'other', index: 1, text: 'x' }), false);
    assert.equal(s.add({ chatId: 'c1', index: -1, text: 'x' }), false);
    assert.equal(s.add({ chatId: 'c1', index: 1.5, text: 'x' }), false);
    assert.equal(s.text, 'a');
  });
});

describe('newChatId', () => {
  it('is unique', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newChatId()));
    assert.equal(ids.size, 100);
  });
});
