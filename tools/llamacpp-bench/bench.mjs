// Times llama.cpp (node-llama-cpp's prebuilt binaries) on a GGUF file like llama-bench does:
// ppN = N random tokens in one batch into an empty cache; tgN = N single-token decodes.
// Prints llama-bench-style JSONL rows (README.md here). Usage, after `npm install --ignore-scripts`:
//   node bench.mjs FILE.gguf THREADS PP TG REPS [MODEL_TYPE]
import {getLlama} from "node-llama-cpp";
const [file, threads, pp, tg, reps, modelType] = process.argv.slice(2);
const nThreads = Number(threads), nPrompt = Number(pp), nGen = Number(tg), nReps = Number(reps);
const llama = await getLlama({gpu: false, build: "never", logLevel: process.env.LLLOG ?? "warn",
                             maxThreads: 0});
const model = await llama.loadModel({modelPath: file, gpuLayers: 0, useMmap: true});
const context = await model.createContext({contextSize: 1024, batchSize: 512, threads: nThreads,
                                           sequences: 1, flashAttention: false});
const seq = context.getSequence();
const randomTokens = (n) => Array.from({length: n}, () => 1000 + Math.floor(Math.random() * 100000));
const stats = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return [m, sd];
};
const name = modelType ?? file.split("/").pop();
// One warm-up of each, then the timed repetitions.
for (const [kind, n] of [["pp", nPrompt], ["tg", nGen]]) {
  if (n === 0) continue;
  const rates = [];
  for (let r = 0; r <= nReps; ++r) {
    await seq.clearHistory();
    let t0, t1;
    if (kind === "pp") {
      const toks = randomTokens(n);
      t0 = performance.now();
      await seq.evaluateWithoutGeneratingNewTokens(toks);
      t1 = performance.now();
    } else {
      // Generation through the sampler, so every step computes the output logits as llama-bench's
      // tg does (plus a greedy pick over the vocabulary, which llama-bench skips).
      let i = 0;
      t0 = performance.now();
      for await (const token of seq.evaluate(randomTokens(1))) {
        void token;
        if (++i >= n) break;
      }
      t1 = performance.now();
    }
    if (r > 0) rates.push(n / ((t1 - t0) / 1000));
  }
  const [avg, sd] = stats(rates);
  console.log(JSON.stringify({model_type: name, n_threads: nThreads, n_prompt: kind === "pp" ? n : 0,
                              n_gen: kind === "tg" ? n : 0, n_depth: 0, avg_ts: +avg.toFixed(2),
                              stddev_ts: +sd.toFixed(2), samples_ts: rates.map((x) => +x.toFixed(2))}));
}
