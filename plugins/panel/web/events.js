/**
 * The live feed (/api/events, a WebSocket): each message goes to the handler
 * named by its `type`. A dropped connection is retried with a growing pause;
 * after a reconnect `onReconnect` reloads what the page may have missed.
 */
export function connectEvents(handlers, { onStatus, onReconnect }) {
  let pause = 1000;
  let opened = false;
  const open = () => {
    const url = new URL('/api/events', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    socket.addEventListener('open', () => {
      pause = 1000;
      onStatus('live');
      if (opened) onReconnect();
      opened = true;
    });
    socket.addEventListener('message', (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      const handler = handlers[event.type];
      if (handler) handler(event);
    });
    socket.addEventListener('close', () => {
      onStatus('offline');
      setTimeout(open, pause);
      pause = Math.min(pause * 2, 15_000);
    });
  };
  open();
}
