// The browser check's page (internal/testutil/browsercheck): given an IPNS name
// and a Delegated Routing V1 URL, and nothing else, it resolves the name,
// finds a provider of the site, dials it directly over one browser
// transport, fetches files of the site over bitswap, checks every block
// against its CID and reports what it did and how long each step took.
// Content never travels over HTTP: the only HTTP requests are this page's
// own and the /routing/v1 queries.
//
// Parameters (query string): name (k51…), routing (http://127.0.0.1:PORT),
// transport (webtransport | webrtc-direct), files (comma-separated paths
// inside the site).
// The report is window.islandReport once done: see report below.

import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { withBitswap } from '@helia/bitswap'
import { ipns } from '@helia/ipns'
import { withLibp2pLight } from '@helia/libp2p'
import { delegatedHTTPRouter } from '@helia/delegated-routing-client'
import { unixfs } from '@helia/unixfs'
import { identify } from '@libp2p/identify'
import { peerIdFromString } from '@libp2p/peer-id'
import { webRTCDirect } from '@libp2p/webrtc'
import { webTransport } from '@libp2p/webtransport'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { MemoryDatastore } from 'datastore-core/memory'
import { createHeliaLight } from 'helia'
import { base32 } from 'multiformats/bases/base32'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'

const params = new URLSearchParams(location.search)
const start = performance.now()
const since = () => Math.round(performance.now() - start)

// report is what the Go side reads. env is set when the browser, not
// island, is why the check could not run (no WebRTC candidates, no
// WebTransport); error when the check ran and failed.
const report = {
  done: false,
  transport: params.get('transport'),
  env: '',
  error: '',
  steps: [], // {step, ms}: milliseconds since the page started
  resolved: '',
  providers: [],
  connection: '',
  files: [], // {path, bytes, sha256}
  blocks: 0,
  verified: 0
}
window.islandReport = report

function step (name) {
  report.steps.push({ step: name, ms: since() })
}

function concat (parts, size) {
  const out = new Uint8Array(size)
  let off = 0
  for (const p of parts) {
    out.set(p, off)
    off += p.byteLength
  }
  return out
}

function hex (bytes) {
  return Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('')
}

// iceCandidates gathers this browser's ICE candidates for an empty data
// channel. None means WebRTC cannot connect anywhere from this machine
// (Chromium found no usable network interface), whatever the peer does.
async function iceCandidates () {
  const pc = new RTCPeerConnection()
  try {
    pc.createDataChannel('probe')
    const found = []
    const done = new Promise(resolve => {
      pc.onicecandidate = ev => {
        if (ev.candidate == null) resolve()
        else if (ev.candidate.candidate !== '') found.push(ev.candidate.candidate)
      }
      setTimeout(resolve, 5000)
    })
    await pc.setLocalDescription(await pc.createOffer())
    await done
    return found
  } finally {
    pc.close()
  }
}

// checkEnvironment says why this browser cannot use the transport at all,
// or '' when it can.
async function checkEnvironment (transport) {
  if (transport === 'webtransport') {
    return typeof WebTransport === 'function' ? '' : 'this browser has no WebTransport'
  }
  if (typeof RTCPeerConnection !== 'function') {
    return 'this browser has no WebRTC'
  }
  const found = await iceCandidates()
  if (found.length === 0) {
    return 'Chromium gathered no WebRTC ICE candidates (a host without a usable network interface or default route); WebRTC-direct cannot connect from it'
  }
  return ''
}

function transportOf (name) {
  switch (name) {
    case 'webtransport': return webTransport()
    case 'webrtc-direct': return webRTCDirect()
    default: throw new Error(`unknown transport ${name}: want webtransport or webrtc-direct`)
  }
}

async function run () {
  const name = params.get('name')
  const routing = params.get('routing')
  const transport = params.get('transport')
  const files = (params.get('files') ?? '').split(',').filter(f => f !== '')
  if (!name || !routing || !transport || files.length === 0) {
    throw new Error('parameters name, routing, transport and files are required')
  }
  report.env = await checkEnvironment(transport)
  if (report.env !== '') {
    return
  }
  step('environment checked')

  // Every block Helia keeps lands here, after bitswap checked it; the
  // page checks each one again itself below.
  const blocks = new MemoryBlockstore()
  const helia = withBitswap(withLibp2pLight(createHeliaLight({
    blockstore: blocks,
    datastore: new MemoryDatastore(),
    // The one way to find anything: the delegated router given. Only
    // addresses of the transport under test come back.
    routers: [delegatedHTTPRouter({
      url: routing,
      filterAddrs: [transport],
      filterProtocols: ['unknown', 'transport-bitswap']
    })]
  }), {
    addresses: { listen: [] },
    transports: [transportOf(transport)],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // The site's nodes are on loopback in the test; browsers refuse
    // private addresses by default.
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify() }
  }))
  await helia.start()
  step('helia started')
  try {
    // 1. The name, through the router: Helia checks the record's
    // signature against the name's key before using it.
    let value = ''
    for await (const res of ipns(helia).resolve(name, { signal: AbortSignal.timeout(30000) })) {
      value = res.value
    }
    report.resolved = value
    step('name resolved')
    const m = /^\/ipfs\/([^/]+)/.exec(value)
    if (m == null) throw new Error(`${name} resolves to ${value}, not an /ipfs/ path`)
    const root = CID.parse(m[1])

    // 2 and 3. Providers of the site's root, through the router, and a
    // direct connection to one of them over the transport alone. Each
    // provider is dialed as soon as the router streams it in, and the
    // first connection is kept: a provider may be gone (the DHT remembers
    // it for a day or two), and the lookup may go on for a while.
    const dials = new AbortController()
    try {
      const conn = await new Promise((resolve, reject) => {
        const errors = []
        let pending = 0
        let listed = false
        const settle = () => {
          if (listed && pending === 0) {
            reject(new Error(`no provider of ${root} could be dialed over ${transport}: ${errors.join('; ') || 'the router listed none with such an address'} (providers: ${JSON.stringify(report.providers)})`))
          }
        }
        const lookup = async () => {
          for await (const prov of helia.routing.findProviders(root, { signal: dials.signal })) {
            const addrs = prov.multiaddrs.map(a => a.toString())
            report.providers.push({ id: prov.id.toString(), addrs })
            if (report.providers.length === 1) step('first provider')
            if (addrs.length === 0) continue
            pending++
            helia.libp2p.dial(peerIdFromString(prov.id.toString()), { signal: AbortSignal.any([dials.signal, AbortSignal.timeout(20000)]) })
              .then(resolve, err => {
                errors.push(`${prov.id}: ${err}`)
                pending--
                settle()
              })
            if (report.providers.length >= 5) break
          }
        }
        lookup().catch(err => errors.push(`lookup: ${err}`)).finally(() => {
          listed = true
          settle()
        })
      })
      report.connection = conn.remoteAddr.toString()
    } finally {
      // The lookup and the other dials are no longer needed.
      dials.abort()
    }
    step('provider dialed')

    // 4. The files, over bitswap on that connection.
    const fs = unixfs(helia)
    for (const path of files) {
      const chunks = []
      let size = 0
      for await (const chunk of fs.cat(root, { path, signal: AbortSignal.timeout(30000) })) {
        if (size === 0 && report.files.length === 0) step('first byte')
        size += chunk.byteLength
        chunks.push(chunk)
      }
      const sum = await sha256.digest(concat(chunks, size))
      report.files.push({ path, bytes: size, sha256: hex(sum.digest) })
    }
    step('files fetched')

    // 5. Every block fetched, hashed again here: its bytes must hash to
    // the CID bitswap asked for. (MemoryBlockstore of blockstore-core 7
    // keeps each block as its chunks under the base32 of its multihash.)
    for (const [key, parts] of blocks.data.entries()) {
      const mh = Digest.decode(base32.decode(key))
      if (mh.code !== sha256.code) throw new Error(`block ${key} uses hash 0x${mh.code.toString(16)}, not sha2-256`)
      const bytes = concat(parts, parts.reduce((n, p) => n + p.byteLength, 0))
      const got = await sha256.digest(bytes)
      report.blocks++
      if (hex(got.digest) !== hex(mh.digest)) throw new Error(`block ${key} does not hash to its CID`)
      report.verified++
    }
    step('blocks verified')
  } finally {
    await helia.stop()
  }
}

run().catch(err => {
  report.error = String(err?.stack ?? err)
}).finally(() => {
  report.done = true
})
