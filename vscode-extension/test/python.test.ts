import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PYTHON, expandPath, installCommand, notInstalledMessage, resolvePythonCommand } from '../src/lib/python';

test('the setting wins over the Python extension', () => {
  assert.deepEqual(resolvePythonCommand({ setting: '/opt/py/bin/python', pythonExtension: '/venv/bin/python' }), {
    command: '/opt/py/bin/python',
    source: 'setting',
  });
});

test('a blank setting falls back to the Python extension, then python3', () => {
  assert.deepEqual(resolvePythonCommand({ setting: '  ', pythonExtension: '/venv/bin/python' }), {
    command: '/venv/bin/python',
    source: 'python-extension',
  });
  assert.deepEqual(resolvePythonCommand({ setting: '', pythonExtension: undefined }), {
    command: DEFAULT_PYTHON,
    source: 'default',
  });
  assert.equal(DEFAULT_PYTHON, 'python3');
});

test('the setting expands ~ and ${workspaceFolder}', () => {
  assert.equal(
    resolvePythonCommand({ setting: '${workspaceFolder}/.venv/bin/python', workspaceFolder: '/w/proj' }).command,
    '/w/proj/.venv/bin/python',
  );
  assert.equal(resolvePythonCommand({ setting: '~/venv/bin/python', home: '/home/ann/' }).command, '/home/ann/venv/bin/python');
  assert.equal(expandPath('${userHome}/x', null, '/home/bob'), '/home/bob/x');
  assert.equal(expandPath('/a/~/b', null, '/home/bob'), '/a/~/b');
});

test('the not-installed message names the interpreter and a pip command', () => {
  assert.equal(
    notInstalledMessage('/v/bin/python'),
    'sessionlens is not installed for /v/bin/python: run `/v/bin/python -m pip install sessionlens`',
  );
  assert.equal(installCommand('/my venv/python'), `'/my venv/python' -m pip install sessionlens`);
});
