/** Whether this realm can share memory with others (a cross-origin isolated page or worker). */
export function sharedMemoryAvailable(): boolean {
  return typeof SharedArrayBuffer !== 'undefined';
}
