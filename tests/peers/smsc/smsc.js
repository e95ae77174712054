// A test SMSC for commwatch's SMPP channel: node-smpp's server (npm `smpp`) on 127.0.0.1.
// Test code only, never shipped. Usage: node smsc.js PORT SYSTEM_ID PASSWORD [CERT KEY]
// (with CERT and KEY: SMPP over TLS).
//
// stdout: one JSON object per event (listening, bind, submit, enquire_link, unbind, deliver_resp).
// stdin: one JSON command per line:
//   {"cmd": "throttle", "count": N}            the next N submit_sm get ESME_RTHROTTLED
//   {"cmd": "delay", "ms": N}                  answer submit_sm only after N ms (window tests)
//   {"cmd": "mo", "from": "...", "to": "...", "text": "...", "parts": 1}   deliver_sm to the ESME
'use strict';

const fs = require('fs');
const readline = require('readline');
const smpp = require('smpp');

const [port, systemId, password, certFile, keyFile] = process.argv.slice(2);
const receivers = new Set();
let throttleNext = 0;
let nextId = 7000;
let moRef = 40;
let delayMs = 0;
let outstanding = 0;

function out(record) {
  process.stdout.write(JSON.stringify(record) + '\n');
}

function stamp(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return pad(date.getUTCFullYear() % 100) + pad(date.getUTCMonth() + 1) + pad(date.getUTCDate()) +
    pad(date.getUTCHours()) + pad(date.getUTCMinutes());
}

function onBind(session, mode, pdu) {
  let status = 0;
  if (pdu.system_id !== systemId) status = smpp.ESME_RINVSYSID;
  else if (pdu.password !== password) status = smpp.ESME_RINVPASWD;
  out({event: 'bind', mode, system_id: pdu.system_id, ok: status === 0, status});
  session.send(pdu.response({command_status: status}));
  if (status !== 0) {
    session.close();
    return;
  }
  if (mode === 'bind_transceiver') receivers.add(session);
}

function onSubmit(session, pdu) {
  const sm = pdu.short_message || {};
  const record = {
    event: 'submit',
    t: Date.now(),
    seq: pdu.sequence_number,
    source: pdu.source_addr,
    source_ton: pdu.source_addr_ton,
    dest: pdu.destination_addr,
    data_coding: pdu.data_coding,
    esm_class: pdu.esm_class,
    registered_delivery: pdu.registered_delivery,
    udh: (sm.udh || []).map((b) => b.toString('hex')),
    text: typeof sm.message === 'string' ? sm.message : null,
  };
  if (throttleNext > 0) {
    throttleNext -= 1;
    out({...record, status: 'throttled'});
    session.send(pdu.response({command_status: smpp.ESME_RTHROTTLED}));
    return;
  }
  if (!/^1\d{10}$/.test(pdu.destination_addr)) {
    out({...record, status: 'invalid_destination'});
    session.send(pdu.response({command_status: smpp.ESME_RINVDSTADR}));
    return;
  }
  const id = String(nextId++);
  outstanding += 1;
  out({...record, status: 'accepted', message_id: id, outstanding});
  setTimeout(() => {
    outstanding -= 1;
    session.send(pdu.response({message_id: id}));
  }, delayMs);
  if ((pdu.registered_delivery & 1) && receivers.has(session)) {
    const now = stamp(new Date());
    setTimeout(() => {
      session.deliver_sm({
        source_addr: pdu.destination_addr,
        destination_addr: pdu.source_addr,
        esm_class: 0x04,
        short_message: `id:${id} sub:001 dlvrd:001 submit date:${now} done date:${now} stat:DELIVRD err:000 text:`,
        receipted_message_id: id,
        message_state: 2,
      }, (resp) => out({event: 'deliver_resp', kind: 'receipt', message_id: id, status: resp.command_status}));
    }, 20);
  }
}

function sendMo(command) {
  const chars = Array.from(command.text);
  const count = command.parts || 1;
  const size = Math.ceil(chars.length / count);
  moRef = (moRef + 1) % 256;
  for (const session of receivers) {
    for (let i = 0; i < count; i += 1) {
      const text = chars.slice(i * size, (i + 1) * size).join('');
      const message = count === 1 ? text : {udh: Buffer.from([5, 0, 3, moRef, count, i + 1]), message: text};
      session.deliver_sm({
        source_addr: command.from,
        destination_addr: command.to,
        data_coding: 8,
        short_message: message,
      }, (resp) => out({event: 'deliver_resp', kind: 'mo', part: i + 1, status: resp.command_status}));
    }
  }
}

const tlsOptions = certFile ? {cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile)} : {};
const server = smpp.createServer(tlsOptions, (session) => {
  session.on('error', (error) => out({event: 'error', error: String(error)}));
  session.on('close', () => receivers.delete(session));
  session.on('bind_transceiver', (pdu) => onBind(session, 'bind_transceiver', pdu));
  session.on('bind_transmitter', (pdu) => onBind(session, 'bind_transmitter', pdu));
  session.on('enquire_link', (pdu) => {
    out({event: 'enquire_link'});
    session.send(pdu.response());
  });
  session.on('unbind', (pdu) => {
    out({event: 'unbind'});
    session.send(pdu.response());
    session.close();
  });
  session.on('submit_sm', (pdu) => onSubmit(session, pdu));
});

server.listen(Number(port), '127.0.0.1', () => out({event: 'listening', port: server.address().port}));

readline.createInterface({input: process.stdin}).on('line', (line) => {
  const command = JSON.parse(line);
  if (command.cmd === 'throttle') throttleNext = command.count;
  if (command.cmd === 'delay') delayMs = command.ms;
  if (command.cmd === 'mo') sendMo(command);
  if (command.cmd === 'drop') for (const session of receivers) session.close();
  out({event: 'done', cmd: command.cmd});
});
process.stdin.on('end', () => process.exit(0));
