import assert from 'node:assert/strict';
import { test } from 'node:test';
import { debounce } from '../src/lib/debounce';

test('calls once with the last arguments after the wait', (t) => {
  t.mock.timers.enable();
  const calls: string[] = [];
  const fn = debounce((value: string) => calls.push(value), 150);
  fn('a');
  t.mock.timers.tick(100);
  fn('ab');
  t.mock.timers.tick(100);
  fn('abc');
  assert.deepEqual(calls, []);
  t.mock.timers.tick(149);
  assert.deepEqual(calls, []);
  t.mock.timers.tick(1);
  assert.deepEqual(calls, ['abc']);
  t.mock.timers.tick(1000);
  assert.deepEqual(calls, ['abc']);
});

test('cancel drops the pending call, flush runs it now', (t) => {
  t.mock.timers.enable();
  const calls: number[] = [];
  const fn = debounce((value: number) => calls.push(value), 50);
  fn(1);
  fn.cancel();
  t.mock.timers.tick(100);
  assert.deepEqual(calls, []);
  fn(2);
  fn.flush();
  assert.deepEqual(calls, [2]);
  t.mock.timers.tick(100);
  assert.deepEqual(calls, [2]);
  fn.flush();
  assert.deepEqual(calls, [2]);
});
