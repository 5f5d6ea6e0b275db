/** Wire protocols and shared-memory primitives between the kernel, its hosts and processes. It imports only the floor. */
export { Ring, allocateRing, type WaitResult } from './ring';
export { EventRing, allocateEventRing } from './event-ring';
export * from './worker-protocol';
export { parseToWorker, parseFromWorker } from './worker-parse';
export { allocateSyncCall, beginSyncCall, waitSyncCall, answerSyncCall, markKilled, killedFlag, SYNC_CALL_BYTES, type SyncAnswer } from './sync-call';
export { BusArena, allocateBusArena, frameSize, BUS_LIMITS, PAGE_TOKEN, REMOTE_PID, type Frame, type SlotStats } from './mailbox';
export { EventType, Key, Mod, EVENT_WORDS, EVENT_BYTES, EVENT_CAPACITY, MAX_SIDE, MAX_PIXELS, MAX_WINDOWS, validSize, type EventTypeCode, type GfxEvent } from './gfx-abi';
export { GfxCall, type OpenArgs, type OpenReply, type ResizedArgs, type CloseArgs, type FrameArgs } from './gfx-protocol';
export { sharedMemoryAvailable } from './shared';
export { allocateWatch, WatchReader, WatchWriter } from './watchdog';
export { sleepUnthrottled, unthrottledTimer } from './timer';
export { feed, ringReadable, ringWritable } from './ring-streams';
export * from './frame-protocol';
export { parseFromFrame, parseToFrame } from './frame-parse';
export { InboxSpace } from './bus-space';
export { fromBase64, toBase64 } from './base64';
export { PARK_CALL, MigrateControl, MIGRATE_CONTROL, MIGRATE_CONTROL_BYTES, parseSnapshot, isMigrateStart, type Snapshot, type MigrateStart } from './migrate-protocol';
