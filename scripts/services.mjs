#!/usr/bin/env zx
// Makes sure the database servers the tests need are running (PostgreSQL on 5432, MariaDB on 3306), starting
// the machine's own installation when one is down, and waits until each accepts connections.
import net from 'node:net';
import { $, fs, sleep } from 'zx';

$.verbose = false;

const services = [
  {
    name: 'PostgreSQL',
    port: 5432,
    start: async () => {
      const [version] = await fs.readdir('/etc/postgresql');
      await $`pg_ctlcluster --skip-systemctl-redirect ${version} main start`;
    },
  },
  {
    name: 'MariaDB',
    port: 3306,
    start: () => $`start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`,
  },
];

function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

for (const service of services) {
  if (await listening(service.port)) {
    console.log(`${service.name} is running on 127.0.0.1:${service.port}`);
    continue;
  }
  console.log(`${service.name} is down; starting it`);
  await service.start();
  for (let i = 0; i < 60 && !(await listening(service.port)); i++) await sleep(500);
  if (!(await listening(service.port)))
    throw new Error(`${service.name} did not start listening on ${service.port} within 30 s`);
  console.log(`${service.name} started on 127.0.0.1:${service.port}`);
}
