import assert from 'node:assert/strict';
import { it } from 'node:test';
import { publicApi } from '../../helpers/public-api.js';

/*
 * The public API of @impartial/bridge-server (what embedding programs and tests start the bridge
 * and reach its services with): every name of every entry of its package.json exports. A change
 * here is a change for its users: update the list on purpose.
 */

const EXPECTED: Record<string, string[]> = {
  '.': [
    'type Actor',
    'type Bridge',
    'type BridgeOptions',
    'DEFAULT_IMPORT_LIMITS',
    'ensureDemoProject',
    'ImpartialError',
    'type ImportLimits',
    'inferPhases',
    'isPublicAddress',
    'LIVE_VIEW_SIDE',
    'LiveInbox',
    'liveViewport',
    'lossCurveSvg',
    'main',
    'memorySource',
    'named',
    'type OpenedSource',
    'parseArgs',
    'registerTimedRun',
    'runInferTask',
    'type Services',
    'startBridge',
    'SYSTEM',
    'tileOrder',
    'type TimedRun',
    'UsageError',
  ],
  './store': [
    'type DatabaseTarget',
    'DataFiles',
    'type Db',
    'type ImageNorm',
    'isUniqueViolation',
    'ObjectStore',
    'type ObjectStoreTarget',
    'openDatabase',
    'parseObjectStoreUrl',
    'publicImage',
    'Store',
    'type StoredImage',
    'type StoreOptions',
    'StrokeEntries',
    'VersionedObjects',
  ],
};

it('@impartial/bridge-server exports exactly its public API', () => {
  assert.deepEqual(publicApi('bridge-server'), EXPECTED);
});
