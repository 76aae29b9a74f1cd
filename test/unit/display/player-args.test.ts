/** ffplay's command line for each kind of item (no X needed). */
import assert from 'node:assert/strict';
import { ffplayArgs } from '../../../plugins/display/player.js';

describe('display plugin: ffplay arguments', () => {
  const screen = { width: 1280, height: 720 };

  it('never passes -autoexit: stills stay up and finished videos hold their last frame', () => {
    const args = ffplayArgs({ input: '/lib/a.png', audio: false, title: 'nvid-1', screen });
    assert.ok(!args.includes('-autoexit'));
    assert.equal(args.at(-1), '/lib/a.png');
  });

  it('fills the screen, borderless, with the unique title, and mutes when audio is off', () => {
    const args = ffplayArgs({ input: '/lib/a.mp4', audio: false, title: 'nvid-7', screen });
    for (const flag of ['-fs', '-noborder', '-an', '-stats']) assert.ok(args.includes(flag), flag);
    assert.equal(args[args.indexOf('-window_title') + 1], 'nvid-7');
    assert.deepEqual(args.slice(args.indexOf('-x'), args.indexOf('-x') + 8), ['-x', '1280', '-y', '720', '-left', '0', '-top', '0']);
    assert.ok(!ffplayArgs({ input: '/lib/a.mp4', audio: true, title: 't', screen }).includes('-an'));
  });

  it('opens just right of the screen when asked to start off screen', () => {
    const args = ffplayArgs({ input: '/lib/a.png', audio: false, title: 't', screen, offscreen: true });
    assert.equal(args[args.indexOf('-left') + 1], '1280');
  });

  it('keeps a file name that starts with a dash from being read as an option', () => {
    assert.equal(ffplayArgs({ input: '-i.png', audio: false, title: 't' }).at(-1), 'file:-i.png');
  });

  it('plays the black idle screen from a lavfi source', () => {
    const args = ffplayArgs({ input: 'color=c=black:s=1280x720:r=2', lavfi: true, audio: false, title: 't', screen });
    assert.deepEqual(args.slice(-3), ['-f', 'lavfi', 'color=c=black:s=1280x720:r=2']);
  });

  describe('rotation and fit (picture-filters.ts)', () => {
    const vf = (args: string[]) => (args.includes('-vf') ? args[args.indexOf('-vf') + 1] : undefined);

    it('passes no filter with the defaults, rotation 0 and contain: ffplay shows the picture as it always did', () => {
      assert.equal(vf(ffplayArgs({ input: '/lib/a.mp4', audio: false, title: 't', screen, view: { rotation: 0, fit: 'contain' } })), undefined);
    });

    it('turns the picture back against the mounting: a quarter counter-clockwise for a screen turned 90', () => {
      assert.equal(vf(ffplayArgs({ input: '/lib/a.mp4', audio: false, title: 't', screen, view: { rotation: 90, fit: 'contain' } })), 'transpose=cclock');
      assert.equal(vf(ffplayArgs({ input: '/lib/a.mp4', audio: false, title: 't', screen, view: { rotation: 180, fit: 'contain' } })), 'hflip,vflip');
      assert.equal(vf(ffplayArgs({ input: '/lib/a.mp4', audio: false, title: 't', screen, view: { rotation: 270, fit: 'contain' } })), 'transpose=clock');
    });

    it('stands a photo upright before turning it for the screen, in one -vf', () => {
      const args = ffplayArgs({ input: '/lib/a.jpg', audio: false, title: 't', screen, orientation: 6, view: { rotation: 90, fit: 'contain' } });
      assert.equal(args.filter((a) => a === '-vf').length, 1, 'ffplay keeps one -vf chain');
      assert.equal(vf(args), 'transpose=clock,transpose=cclock');
    });

    it('makes cover and stretch produce exactly the screen size, with square pixels, after the turn', () => {
      assert.equal(vf(ffplayArgs({ input: '/lib/a.mp4', audio: false, title: 't', screen, view: { rotation: 90, fit: 'cover' } })), 'transpose=cclock,scale=1280:720:force_original_aspect_ratio=increase,crop=1280:720,setsar=1');
      assert.equal(vf(ffplayArgs({ input: '/lib/a.mp4', audio: false, title: 't', screen, view: { rotation: 0, fit: 'stretch' } })), 'scale=1280:720,setsar=1');
    });

    it('gives the player waiting on stdin the same chain (it knows the screen, not yet the photo)', () => {
      const args = ffplayArgs({ input: 'pipe:0', stdinFormat: 'jpeg_pipe', audio: false, title: 't', screen, offscreen: true, view: { rotation: 270, fit: 'cover' } });
      assert.equal(vf(args), 'transpose=clock,scale=1280:720:force_original_aspect_ratio=increase,crop=1280:720,setsar=1');
      assert.ok(args.indexOf('-vf') < args.indexOf('-f'), 'filters come before the input');
    });
  });
});
