import { test } from "node:test";
import assert from "node:assert/strict";
import { formatSize, parseDuration, parseSize } from "./units.js";

test("parseSize reads Docker's binary units", () => {
  assert.equal(parseSize("512"), 512);
  assert.equal(parseSize("10GB"), 10 * 1024 ** 3);
  assert.equal(parseSize("10gb"), 10 * 1024 ** 3);
  assert.equal(parseSize("1.5k"), 1536);
  assert.equal(parseSize("200MiB"), 200 * 1024 ** 2);
  assert.equal(parseSize("3 m"), 3 * 1024 ** 2);
  for (const bad of ["", "GB", "10XB", "-1", "1.2.3g"]) assert.throws(() => parseSize(bad), /invalid size/);
});

test("formatSize prints like go-units HumanSize", () => {
  assert.equal(formatSize(0), "0B");
  assert.equal(formatSize(999), "999B");
  assert.equal(formatSize(1000), "1kB");
  assert.equal(formatSize(1234567), "1.235MB");
  assert.equal(formatSize(10 * 1024 ** 3), "10.74GB");
});

test("parseDuration reads Go durations into ms", () => {
  assert.equal(parseDuration("24h"), 86_400_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("0"), 0);
  for (const bad of ["24", "1d", "h", "1h-2m"]) assert.throws(() => parseDuration(bad), /invalid duration/);
});
