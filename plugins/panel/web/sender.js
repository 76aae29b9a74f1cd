/**
 * Sending: files chosen with the file input (then the Send button, to the
 * ticked cards) or dropped on a card. Each file is announced to this node,
 * its sends to every chosen peer asked for, and then its bytes uploaded: the
 * node starts sending with the first byte that lands, and reports progress
 * as `send` events.
 */
import { api, fillUpload } from './api.js';
import { byId } from './dom.js';
import { showError } from './notices.js';

/** The extensions the node accepts (API.md, POST /api/uploads), for files the browser gives no type. */
const IMAGE_EXTENSIONS = /\.(jpe?g|png|gif|webp|bmp|tiff?)$/i;
const VIDEO_EXTENSIONS = /\.(mp4|m4v|mov|mkv|webm|avi)$/i;

/** 'image', 'video', or undefined for anything else; the node checks the content itself. */
export function mediaKind(file) {
  if (file.type.startsWith('image/') || (!file.type && IMAGE_EXTENSIONS.test(file.name))) return 'image';
  if (file.type.startsWith('video/') || (!file.type && VIDEO_EXTENSIONS.test(file.name))) return 'video';
  return undefined;
}

export function isMedia(file) {
  return mediaKind(file) !== undefined;
}

export function createSender({ peers, transfers }) {
  const form = byId('send-form');
  const input = byId('files');
  let uploads = 0;

  async function sendOne(file, to) {
    const key = `upload-${++uploads}`;
    transfers.uploading(key, file, 0);
    try {
      const announced = await api('POST', '/api/uploads/announce', { name: file.name, size: file.size, kind: mediaKind(file) });
      const { sends } = await api('POST', '/api/sends', { upload: announced.id, to });
      // A send that fails can go again from its row: this page still holds the file.
      for (const send of sends) transfers.send(send, () => void sendOne(file, [send.to.id]));
      await fillUpload(announced.id, file, (loaded) => transfers.uploading(key, file, loaded));
      transfers.uploaded(key);
    } catch (err) {
      transfers.uploading(key, file, 0, 'failed', { code: err.code, message: err.message }, () => void sendOne(file, to));
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
