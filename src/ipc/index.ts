/** Wire protocols and shared-memory primitives between the kernel and its hosts. */
export { Ring, allocateRing, type WaitResult } from './ring';
export { EventRing, allocateEventRing } from './event-ring';
export * from './worker-protocol';
export { parseToWorker, parseFromWorker } from './worker-parse';
export { allocateSyncCall, beginSyncCall, waitSyncCall, answerSyncCall, markKilled, killedFlag, SYNC_CALL_BYTES, type SyncAnswer } from './sync-call';
export { BusArena, allocateBusArena, frameSize, BUS_LIMITS, PAGE_TOKEN, REMOTE_PID, type Frame, type SlotStats } from './mailbox';
