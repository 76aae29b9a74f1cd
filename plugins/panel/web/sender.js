/**
 * Sending: files chosen with the file input (then the Send button, to the
 * ticked cards) or dropped on a card. Each file is uploaded to this node,
 * then handed to POST /api/sends for every chosen peer; the node sends it on
 * and reports progress as `send` events.
 */
import { api, upload } from './api.js';
import { byId } from './dom.js';
import { showError } from './notices.js';

/** The extensions the node accepts (API.md, POST /api/uploads), for files the browser gives no type. */
const MEDIA_EXTENSIONS = /\.(jpe?g|png|gif|webp|bmp|tiff?|mp4|m4v|mov|mkv|webm|avi)$/i;

export function isMedia(file) {
  if (file.type) return file.type.startsWith('image/') || file.type.startsWith('video/');
  return MEDIA_EXTENSIONS.test(file.name);
}

export function createSender({ peers, transfers }) {
  const form = byId('send-form');
  const input = byId('files');
  let uploads = 0;

  async function sendOne(file, to) {
    const key = `upload-${++uploads}`;
    transfers.uploading(key, file, 0);
    try {
      const uploaded = await upload(file, (loaded) => transfers.uploading(key, file, loaded));
      const { sends } = await api('POST', '/api/sends', { upload: uploaded.id, to });
      transfers.uploaded(key);
      for (const send of sends) transfers.send(send);
    } catch (err) {
      transfers.uploading(key, file, 0, 'failed', err.message);
      showError(`${file.name}: ${err.message}`);
    }
  }

  /** Sends `files` to the peers `to`; says in words what it will not send. */
  async function send(files, to) {
    const media = files.filter(isMedia);
    for (const file of files.filter((f) => !isMedia(f))) showError(`${file.name} is not an image or a video, so it was not sent.`);
    if (media.length === 0) return;
    if (to.length === 0) {
      showError('Tick the card of at least one screen to send to, or drop the files on a card.');
      return;
    }
    // One file at a time: the node sends each to all peers at once, and a phone's uplink is shared.
    for (const file of media) await sendOne(file, to);
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const files = [...input.files];
    if (files.length === 0) {
      showError('Choose one or more images or videos first.');
      return;
    }
    const to = peers.picked();
    // The chosen files are captured; clearing the input (not the form) keeps the ticks for the next send.
    if (to.length) input.value = '';
    void send(files, to);
  });

  // A drop that misses every card would make the browser open the file and leave the panel.
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => e.preventDefault());

  return { send };
}
