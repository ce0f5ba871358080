// Hybrid Chat's in-browser page: SmolLM2 chat (wllama, llama.cpp in WebAssembly) and a
// "check before sending" panel (all-MiniLM-L6-v2 embeddings with transformers.js).
// Every file comes from this server (./vendor, ./models); no text leaves the page.
//
// URL options: ?embeddings=auto|wasm|webgpu (force the embeddings backend), ?chat=off (skip
// loading the chat model). Tests drive the page through window.demo (see the end of this file).

import { Wllama } from './vendor/wllama/index.js';

const params = new URLSearchParams(location.search);
const asset = (path) => new URL(path, import.meta.url).href;
const $ = (id) => document.getElementById(id);

const CHAT_MAX_TOKENS = 128;
const CHAT_SYSTEM_PROMPT = 'You are a helpful assistant. Answer briefly.';
const CHAT_MESSAGES_KEPT = 7; // the new message and the 3 exchanges before it: the prompt stays well inside n_ctx
const EMBEDDING_MODEL = 'all-MiniLM-L6-v2';

const errors = [];
const demo = { errors }; // test hooks, filled in below
window.demo = demo;

function setStatus(id, state, text) {
  const element = $(id);
  element.dataset.state = state;
  element.textContent = text;
}

function showFacts(id, facts) {
  const list = $(id);
  list.replaceChildren();
  for (const [name, value] of Object.entries(facts)) {
    const term = document.createElement('dt');
    term.textContent = name;
    const detail = document.createElement('dd');
    detail.textContent = value;
    detail.dataset.fact = name;
    list.append(term, detail);
  }
}

function fail(statusId, what, error) {
  console.error(what, error);
  errors.push(`${what}: ${error?.message ?? error}`);
  setStatus(statusId, 'error', `${what}: ${error?.message ?? error}`);
}

// --- WebGPU: what the browser offers decides the backends -----------------------------------

/** The adapter and the facts that matter: software or hardware, and shader-f16. */
async function probeWebGPU() {
  if (!('gpu' in navigator)) {
    return { adapter: null, summary: 'not available in this browser (on Linux, Chromium enables it only with --enable-unsafe-webgpu)' };
  }
  let adapter = null;
  try {
    adapter = await navigator.gpu.requestAdapter();
  } catch (error) {
    console.warn('requestAdapter failed', error);
  }
  if (!adapter) return { adapter: null, summary: 'the browser offers no WebGPU adapter' };
  const info = adapter.info ?? {};
  const software = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter);
  const f16 = adapter.features.has('shader-f16');
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
  const summary = `${software ? 'software (fallback)' : 'hardware'} adapter "${name}", shader-f16 ${f16 ? 'yes' : 'no'}`;
  return { adapter, software, f16, summary };
}

/** WebGPU only pays off on a real (hardware) adapter; a software one is ~100x slower than WebAssembly. */
function chooseEmbeddingsBackend(gpu, requested) {
  if (requested === 'wasm') return { device: 'wasm', reason: 'forced by ?embeddings=wasm' };
  if (requested === 'webgpu') {
    if (!gpu.adapter) throw new Error(`?embeddings=webgpu asked for WebGPU, but WebGPU is ${gpu.summary}`);
    return { device: 'webgpu', reason: `forced by ?embeddings=webgpu (${gpu.summary})` };
  }
  if (!gpu.adapter) return { device: 'wasm', reason: `WebGPU is ${gpu.summary}` };
  if (gpu.software) {
    return { device: 'wasm', reason: 'the only WebGPU adapter is a software (fallback) one, about 100x slower than WebAssembly' };
  }
  return { device: 'webgpu', reason: `a hardware WebGPU adapter is available` };
}

/** llama.cpp's WebGPU kernels need shader-f16; without a hardware adapter that has it, run on the CPU. */
function chooseChatBackend(gpu) {
  if (!gpu.adapter) return { gpuLayers: 0, backend: 'wasm (CPU)', reason: `WebGPU is ${gpu.summary}` };
  if (gpu.software) return { gpuLayers: 0, backend: 'wasm (CPU)', reason: 'the only WebGPU adapter is a software (fallback) one' };
  if (!gpu.f16) return { gpuLayers: 0, backend: 'wasm (CPU)', reason: "the WebGPU adapter lacks shader-f16, which llama.cpp's WebGPU path needs" };
  return { gpuLayers: undefined, backend: 'webgpu', reason: 'hardware WebGPU adapter with shader-f16' };
}

// --- embeddings (transformers.js) -----------------------------------------------------------

async function loadEmbedder(gpu) {
  const choice = chooseEmbeddingsBackend(gpu, params.get('embeddings') ?? 'auto');
  const { env, pipeline } = await import('./vendor/transformers/transformers.min.js');
  // Offline: models from this server only, ONNX Runtime's wasm from ./vendor/ort (not a CDN).
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = new URL('./models/', import.meta.url).pathname; // a path: full URLs count as remote
  env.useBrowserCache = false;
  env.backends.onnx.wasm.wasmPaths = {
    mjs: asset('./vendor/ort/ort-wasm-simd-threaded.asyncify.mjs'),
    wasm: asset('./vendor/ort/ort-wasm-simd-threaded.asyncify.wasm'),
  };
  const extractor = await pipeline('feature-extraction', EMBEDDING_MODEL, { device: choice.device, dtype: 'fp32' });
  // Mean pooling + L2 normalisation: what the sentence-transformers model (modules.json) does.
  const embed = async (texts) => (await extractor(texts, { pooling: 'mean', normalize: true })).tolist();
  return { ...choice, embed, threads: env.backends.onnx.wasm.numThreads ?? 1 };
}

const cosine = (a, b) => a.reduce((sum, value, i) => sum + value * b[i], 0); // both unit length

/** Compares a message with the sensitive examples; the examples' vectors are cached by text. */
function makeChecker(embedder) {
  const cache = new Map();
  return async (message) => {
    const examples = $('sensitive-examples').value.split('\n').map((line) => line.trim()).filter(Boolean);
    const missing = examples.filter((text) => !cache.has(text));
    if (missing.length) (await embedder.embed(missing)).forEach((vector, i) => cache.set(missing[i], vector));
    const [query] = await embedder.embed([message]);
    let best = { example: null, score: -1 };
    for (const example of examples) {
      const score = cosine(query, cache.get(example));
      if (score > best.score) best = { example, score };
    }
    const threshold = Number($('threshold').value);
    return { flagged: best.score >= threshold, threshold, ...best };
  };
}

function showCheck(result) {
  const out = $('check-result');
  out.dataset.flagged = String(result.flagged);
  out.textContent = result.example === null
    ? 'No sensitive examples to compare with.'
    : result.flagged
      ? `⚠ Looks sensitive: similarity ${result.score.toFixed(2)} with “${result.example}”. Hybrid Chat would keep it on a local model.`
      : `No sensitive match (closest: ${result.score.toFixed(2)}).`;
}

// --- chat (wllama) ----------------------------------------------------------------------------

async function loadChat(gpu) {
  const choice = chooseChatBackend(gpu);
  const wllama = new Wllama({ default: asset('./vendor/wllama/wllama.wasm') }, { suppressNativeLog: true });
  await wllama.loadModelFromUrl(asset('./models/smollm2.gguf'), {
    useCache: false,
    n_threads: 1, // measured: on 2 cores one thread is faster than two
    n_ctx: 2048,
    n_gpu_layers: choice.gpuLayers,
    progressCallback: ({ loaded, total }) => {
      setStatus('chat-status', 'loading', `Loading the model… ${Math.round((100 * loaded) / total)} %`);
    },
  });
  const template = wllama.getChatTemplate() ?? '';
  return {
    wllama,
    ...choice,
    threads: wllama.getNumThreads(),
    template: template.includes('<|im_start|>') ? 'ChatML (from the GGUF)' : 'from the GGUF',
  };
}

/** Streams one reply into `onText`; returns the text, token count and tokens per second. */
async function streamReply(chat, messages, onText) {
  const stream = await chat.wllama.createChatCompletion({
    messages, stream: true, max_tokens: CHAT_MAX_TOKENS, temperature: 0.2, top_p: 0.9,
  });
  let text = '';
  let tokens = 0;
  let first = null;
  let timings = null;
  for await (const chunk of stream) {
    const piece = chunk.choices?.[0]?.delta?.content ?? '';
    if (piece) {
      first ??= performance.now();
      tokens += 1;
      text += piece;
      onText(text);
    }
    if (chunk.timings) timings = chunk.timings;
  }
  const measured = first && tokens > 1 ? ((tokens - 1) * 1000) / (performance.now() - first) : 0;
  return { text, tokens: timings?.predicted_n ?? tokens, tokensPerSecond: timings?.predicted_per_second ?? measured };
}

function addTurn(role, text) {
  const item = document.createElement('li');
  item.className = role;
  item.textContent = text;
  $('transcript').append(item);
  return item;
}

// --- wiring ----------------------------------------------------------------------------------

const gpu = await probeWebGPU();
const history = [];

const embeddingsReady = loadEmbedder(gpu).then(
  (embedder) => {
    setStatus('embed-status', 'ready', `Ready on ${embedder.device}.`);
    showFacts('embed-facts', { backend: embedder.device, why: embedder.reason, 'WebGPU': gpu.summary, model: `${EMBEDDING_MODEL} (fp32 ONNX)` });
    demo.embeddings = { backend: embedder.device, reason: embedder.reason };
    demo.embed = embedder.embed;
    demo.check = makeChecker(embedder);
    $('check-button').disabled = false;
    return demo.embeddings;
  },
  (error) => { fail('embed-status', 'Embedding model failed to load', error); throw error; },
);

function startChat() {
  if (params.get('chat') === 'off') {
    setStatus('chat-status', 'off', 'Chat model not loaded (?chat=off).');
    return Promise.resolve(null);
  }
  return loadChat(gpu).then(
    (chat) => {
      setStatus('chat-status', 'ready', `Ready on ${chat.backend}, ${chat.threads} thread(s).`);
      showFacts('chat-facts', { backend: chat.backend, why: chat.reason, threads: String(chat.threads), 'chat template': chat.template });
      demo.chat = { backend: chat.backend, reason: chat.reason, threads: chat.threads };
      $('chat-send').disabled = false;
      return chat;
    },
    (error) => { fail('chat-status', 'Chat model failed to load', error); throw error; },
  );
}

const chatReady = startChat();

$('threshold').addEventListener('input', () => { $('threshold-value').textContent = Number($('threshold').value).toFixed(2); });

$('chat-input').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    $('chat-form').requestSubmit();
  }
});

$('check-button').addEventListener('click', async () => {
  const text = $('check-input').value.trim();
  if (!text) return;
  try {
    showCheck(await demo.check(text));
  } catch (error) {
    fail('embed-status', 'Check failed', error);
  }
});

$('chat-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = $('chat-input').value.trim();
  if (!text) return;
  const chat = await chatReady.catch(() => null);
  if (!chat || $('chat-send').disabled) return;
  $('chat-send').disabled = true;
  $('chat-input').value = '';
  addTurn('user', text);
  if (demo.check) showCheck(await demo.check(text).catch(() => ({ example: null })));
  history.push({ role: 'user', content: text });
  const reply = addTurn('assistant', '…');
  reply.dataset.state = 'streaming';
  try {
    const messages = [{ role: 'system', content: CHAT_SYSTEM_PROMPT }, ...history.slice(-CHAT_MESSAGES_KEPT)];
    const result = await streamReply(chat, messages, (partial) => { reply.textContent = partial; });
    history.push({ role: 'assistant', content: result.text });
    reply.dataset.state = 'done';
    $('chat-speed').textContent = `${result.tokens} tokens · ${result.tokensPerSecond.toFixed(1)} tokens/s`;
    $('chat-speed').dataset.tokensPerSecond = String(result.tokensPerSecond);
  } catch (error) {
    reply.dataset.state = 'error';
    history.pop(); // the unanswered message: keep user/assistant alternating
    fail('chat-status', 'Reply failed', error);
  } finally {
    $('chat-send').disabled = false;
  }
});

// Test hooks: readiness promises (the page's own embedding function is demo.embed).
Object.assign(demo, { webgpu: gpu.summary, embeddingsReady, chatReady: chatReady.then(() => demo.chat ?? null) });
