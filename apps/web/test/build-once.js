// Jest globalSetup: the app is built once for the whole run, before any test file starts. Each
// file building it in its own worker raced (vite empties dist/ while another file's server reads it).
const { spawnSync } = require('node:child_process');
const { dirname, join } = require('node:path');

module.exports = async () => {
  const vite = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'error'], { cwd: join(__dirname, '..'), encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } });
  if (result.status !== 0) throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`);
  process.env.TANDEM_WEB_BUILT = '1';
};
