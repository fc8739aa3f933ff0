/**
 * Workflow histories as canonical proto3 JSON (the format of `temporal workflow show -o json`).
 *
 * Why not `historyToJSON` / `historyFromJSON` from @temporalio/common: in this install
 * @temporalio/common and @temporalio/proto each carry their own nested copy of protobufjs 8
 * (the top-level one is protobufjs 7, for @grpc/proto-loader), so the SDK helpers fail with
 * "type must be a Type" (an instanceof across the two copies). Using the protojson of the copy
 * that @temporalio/proto itself uses gives the same canonical JSON.
 */
import { dirname } from 'node:path';
import * as proto from '@temporalio/proto';
import type { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- an internal SDK module without types
const { patchProtobufRoot } = require('@temporalio/proto/lib/patch-protobuf-root') as { patchProtobufRoot: (p: unknown) => { lookupType(name: string): unknown } };
const protoDir = dirname(require.resolve('@temporalio/proto/package.json'));
// eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved from @temporalio/proto's own directory, see above
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as ProtoJson;
const historyType = patchProtobufRoot(proto).lookupType('temporal.api.history.v1.History');

/** A History (as returned by `handle.fetchHistory()`) as pretty canonical JSON. */
export function historyToJson(history: History): string {
  return JSON.stringify(protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
}

/** Canonical JSON back to a History that `Worker.runReplayHistories` accepts. */
export function historyFromJson(json: unknown): History {
  const h = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (h === null || typeof h !== 'object') throw new TypeError('not a workflow history');
  return h as History;
}
