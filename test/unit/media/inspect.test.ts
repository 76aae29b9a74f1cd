/** The media policy on hand-written ffprobe reports (no ffprobe needed). */
import assert from 'node:assert/strict';
import { isNvidError } from '../../../core/errors.js';
import { declaredPictureSize, inspectProbeReport } from '../../../plugins/media/inspect.js';
import { DEFAULT_MEDIA_POLICY } from '../../../plugins/media/options.js';

const stream = (fields: Record<string, unknown>) => ({ codec_type: 'video', codec_name: 'h264', width: 640, height: 360, avg_frame_rate: '25/1', ...fields });
const report = (format: Record<string, unknown>, streams: unknown[]) => ({ format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '4.0', ...format }, streams });

function rejection(data: unknown, pattern: RegExp): void {
  assert.throws(() => inspectProbeReport(data, 1000, DEFAULT_MEDIA_POLICY), (e: unknown) => isNvidError(e, 'NVID_ERR_MEDIA_REJECTED') && pattern.test(e.message));
}

describe('media plugin: inspecting ffprobe reports', () => {
  it('reads numbers given as strings and estimates frames from the rate when nb_frames is missing', () => {
    const info = inspectProbeReport(report({ format_name: 'matroska,webm' }, [stream({ codec_name: 'vp9' })]), 1000, DEFAULT_MEDIA_POLICY);
    assert.deepEqual([info.kind, info.duration, info.frames, info.container], ['video', 4, 100, 'matroska,webm']);
  });

  it('treats an animated GIF as a video and a single-frame GIF as an image', () => {
    const gif = (frames: string) => report({ format_name: 'gif', duration: '1.0' }, [stream({ codec_name: 'gif', nb_frames: frames, avg_frame_rate: '10/1' })]);
    assert.equal(inspectProbeReport(gif('10'), 10, DEFAULT_MEDIA_POLICY).kind, 'video');
    assert.equal(inspectProbeReport(gif('1'), 10, DEFAULT_MEDIA_POLICY).kind, 'image');
  });

  it('rejects audio only, even with cover art', () => {
    rejection(report({}, [{ codec_type: 'audio', codec_name: 'aac' }, stream({ codec_name: 'mjpeg', disposition: { attached_pic: 1 } })]), /audio only/);
  });

  it('rejects containers and codecs outside the allow-list, naming them', () => {
    rejection(report({ format_name: 'tty' }, [stream({ codec_name: 'ansi' })]), /container "tty"/);
    rejection(report({}, [stream({ codec_name: 'prores' })]), /codec "prores"/);
  });

  it('rejects garbage in any shape without throwing anything else', () => {
    for (const junk of [null, 42, 'text', [], {}, { format: 'x' }, { format: {}, streams: 'no' }]) rejection(junk, /not an image or video/);
  });

  it('applies duration, frame and pixel limits', () => {
    rejection(report({ duration: '99999' }, [stream({})]), /duration 99999.0 s exceeds limit/);
    rejection(report({}, [stream({ nb_frames: '2000000' })]), /2000000 frames exceed limit/);
    rejection(report({}, [stream({ width: 16000, height: 16000 })]), /pixels, over the limit/);
  });

  it('reads the size a decoder refused from ffprobe warnings', () => {
    assert.deepEqual(declaredPictureSize('[png @ 0x1] [IMGUTILS @ 0x2] Picture size 30000x30000 is invalid\n'), { width: 30000, height: 30000 });
    assert.equal(declaredPictureSize('all fine'), undefined);
  });
});
