import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/nvid.js';

/** Runs the README's demo the way CI does: no terminal, CI=true. */
function runDemo(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'scripts', 'demo.js')], { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Mean brightness of each half of a PNG, read back through ffmpeg as raw grey pixels. */
async function halfBrightness(png: string): Promise<[number, number]> {
  const { execFileSync } = await import('node:child_process');
  const probe = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', png], { encoding: 'utf8' });
  const [width, height] = probe.trim().split(',').map(Number) as [number, number];
  const grey = execFileSync('ffmpeg', ['-v', 'error', '-i', png, '-f', 'rawvideo', '-pix_fmt', 'gray', '-']);
  let left = 0;
  let right = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const value = grey[y * width + x]!;
      if (x < width / 2) left += value;
      else right += value;
    }
  }
  const half = (width / 2) * height;
  return [left / half, right / half];
}

describe('the README demo', function () {
  this.timeout(180_000);

  it('sends sample media to two screens, writes a screenshot that shows it, and exits by itself', async () => {
    const { code, output } = await runDemo();
    assert.equal(code, 0, output);
    assert.match(output, /dropped test-pattern\.png into \.nvid-demo\/drop\/meeting-room\//);
    assert.match(output, /delivered to lobby; moved to \.nvid-demo\/drop\/\.sent\/lobby\/clip\.mp4/);
    const shot = join(REPO_ROOT, 'demo-screenshot.png');
    assert.ok(existsSync(shot) && statSync(shot).size > 1000);
    const [meetingRoom, lobby] = await halfBrightness(shot);
    assert.ok(meetingRoom > 40, `the meeting-room screen is dark (${meetingRoom.toFixed(1)})`);
    assert.ok(lobby > 40, `the lobby screen is dark (${lobby.toFixed(1)})`);
  });
});
