// The harness's own pieces that need no server: the CSV reader used for `iotad sql` answers and
// the hostile CSV the lakes are made with.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XSS_DEVICE, XSS_LOCATION, hostileCsv, parseCsv } from './lib/harness.mjs';

test('parseCsv reads quotes, doubled quotes, commas and newlines in fields', () => {
  assert.deepEqual(parseCsv('a,b\n1,"x,y"\n"say ""hi""","two\nlines"\n,\n'),
    [['a', 'b'], ['1', 'x,y'], ['say "hi"', 'two\nlines'], ['', '']]);
  assert.deepEqual(parseCsv('n\r\n3\r\n'), [['n'], ['3']]);
});

test('the hostile CSV names the device and location that must render as text', () => {
  const rows = parseCsv(hostileCsv());
  assert.deepEqual(rows[0], ['event_time', 'device_id', 'temp_c', 'humidity_pc', 'vibration_g', 'location']);
  const data = rows.slice(1);
  assert.equal(data.length, 24 * 12 + 1, 'a reading every 5 minutes for a day, and one bad row');
  assert.ok(data.every((r) => r[1] === XSS_DEVICE && r[5] === XSS_LOCATION));
  assert.equal(data.filter((r) => r[2] === '95.00').length, 2, 'two spikes');
  assert.equal(data.filter((r) => r[0] === 'not-a-time').length, 1, 'one row to quarantine');
});
