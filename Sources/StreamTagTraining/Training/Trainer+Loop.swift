import Dispatch
import Foundation
import StreamTagCore

/// The outcome of a run: the best epoch's model and the history behind it.
public struct TrainingResult: Sendable {
    public var bundle: ModelBundle
    public var bestEpoch: Int
    /// Dev scores by lookahead k' = 0...k at the best epoch.
    public var devScores: [Double]
    public var epochsRun: Int
    public var tokensPerSecond: Double
    public var seconds: Double
}

extension Trainer {
    /// Trains until `epochs` or early stopping; returns the best epoch's weights.
    public func run() -> TrainingResult {
        let start = DispatchTime.now().uptimeNanoseconds
        var best: (score: Double, epoch: Int, weights: [[Float]], scores: [Double])? = nil
        var learningRate = options.learningRate
        var sinceBest = 0
        var tokens = 0
        var epochsRun = 0
        for epoch in 1...max(1, options.epochs) {
            epochsRun = epoch
            tokens += runEpoch(epoch, learningRate: learningRate, start: start)
            let scores = evaluateDev()
            let score = options.selection.score(scores)
            // Without dev data every epoch is the best so far: the last one is kept.
            if best == nil || score > best!.score || devSentences.isEmpty {
                best = (score, epoch, params.all.map { (options.averageDecay > 0 ? $0.average : $0.values).array }, scores)
                sinceBest = 0
            } else {
                sinceBest += 1
                if options.schedule == .plateau && sinceBest % max(1, options.decayPatience) == 0 { learningRate *= 0.5 }
            }
            let elapsed = seconds(since: start)
            progress(TrainingProgress(kind: .epoch, epoch: epoch, epochs: options.epochs, step: 0, stepsPerEpoch: 0,
                                      tokensPerSecond: Double(tokens) / elapsed, loss: 0, trainAccuracy: 0,
                                      learningRate: learningRate, devScores: scores, bestDevScore: best!.score,
                                      elapsed: elapsed, remaining: nil))
            if sinceBest >= options.stopPatience { break }
        }
        if let best {
            for (p, values) in zip(params.all, best.weights) {
                p.values.pointer.update(from: values, count: values.count)
                p.average.pointer.update(from: values, count: values.count)
            }
        }
        let elapsed = seconds(since: start)
        return TrainingResult(bundle: bundle(), bestEpoch: best?.epoch ?? epochsRun, devScores: best?.scores ?? [],
                              epochsRun: epochsRun, tokensPerSecond: Double(tokens) / elapsed, seconds: elapsed)
    }

    /// One pass over the training data; returns the tokens it trained on.
    @discardableResult
    public func runEpoch(_ epoch: Int, learningRate: Float, start: UInt64? = nil) -> Int {
        let plan = EpochPlan(corpus: train, rows: options.batchSize, resetProbability: options.resetProbability,
                             keepDocuments: options.keepDocuments, rng: &rng)
        let steps = plan.chunkCount(length: options.chunkLength)
        let epochStart = DispatchTime.now().uptimeNanoseconds
        var lossSum = 0.0, lossCount = 0, correct = 0, lastReport = epochStart
        for w in workers { w.resetCarry() }
        for step in 0..<steps {
            var rate = learningRate
            if options.schedule == .cosine {
                let progress = (Double(epoch - 1) + Double(step) / Double(steps)) / Double(max(1, options.epochs))
                rate = options.learningRate * Float(0.5 * (1 + cos(Double.pi * min(1, progress))))
            }
            trainStep(plan: plan, chunk: step, epoch: epoch, learningRate: rate)
            for w in workers {
                lossSum += w.lossSum
                lossCount += w.lossCount
                correct += w.correct
            }
            let now = DispatchTime.now().uptimeNanoseconds
            if now - lastReport > 500_000_000 || step == steps - 1 {
                lastReport = now
                let elapsed = Double(now - epochStart) / 1e9
                let done = Double(step + 1) / Double(steps)
                let tokens = Double(plan.tokenCount) * done
                progress(TrainingProgress(
                    kind: .step, epoch: epoch, epochs: options.epochs, step: step + 1, stepsPerEpoch: steps,
                    tokensPerSecond: tokens / elapsed, loss: lossSum / Double(max(lossCount, 1)),
                    trainAccuracy: Double(correct) / Double(max(lossCount, 1)), learningRate: learningRate,
                    devScores: [], bestDevScore: 0, elapsed: start.map { seconds(since: $0) } ?? elapsed,
                    remaining: elapsed / done * (1 - done)))
            }
        }
        return plan.tokenCount
    }

    /// One chunk on every worker in parallel, then one optimiser step.
    func trainStep(plan: EpochPlan, chunk: Int, epoch: Int, learningRate: Float) {
        let workers = self.workers, corpus = train, options = self.options
        let normalizer = Float(options.batchSize * options.chunkLength)
        let stepSeed = options.seed &+ UInt64(epoch) &* 1_000_003 &+ UInt64(chunk) &* 7919
        DispatchQueue.concurrentPerform(iterations: workers.count) { w in
            let worker = workers[w]
            worker.rng = SplitMix64(seed: stepSeed &* 31 &+ UInt64(w))
            worker.inputDropout = options.inputDropout
            worker.hiddenDropout = options.hiddenDropout
            worker.provisionalWeight = options.provisionalWeight
            worker.firstHeadWeight = options.firstHeadWeight ?? options.provisionalWeight
            worker.labelSmoothing = options.labelSmoothing
            worker.distillWeight = options.distillWeight
            worker.weightDrop = options.weightDrop
            worker.nextTagWeight = options.nextTagWeight
            worker.nextWordWeight = options.nextWordWeight
            worker.lowerNoise = options.lowerNoise
            worker.normalizer = normalizer
            worker.fill(plan: plan, corpus: corpus, chunk: chunk, wordDropout: options.wordDropout)
            worker.zeroGradients()
            worker.forward()
            worker.backward()
        }
        applyGradients(learningRate: learningRate)
    }

    /// Sums the workers' gradients, clips the global norm, and takes an Adam step.
    func applyGradients(learningRate: Float) {
        let first = workers[0]
        let dense = params.dense
        for p in dense {
            let total = first.grad(p)
            for w in workers.dropFirst() {
                let g = w.grad(p)
                for i in 0..<p.count { total[i] += g[i] }
            }
        }
        scatterEmbeddingGradients()
        var squared = 0.0
        for p in dense {
            let g = first.grad(p)
            var s: Float = 0
            for i in 0..<p.count { s += g[i] * g[i] }
            squared += Double(s)
        }
        for s in sparse { squared += s.squaredNorm }
        let norm = squared.squareRoot()
        let scale = norm > Double(options.clipNorm) ? Float(Double(options.clipNorm) / norm) : 1
        let warm = min(1, Float(adam.step + 1) / Float(max(1, options.warmupSteps)))
        let stepSize = adam.begin(learningRate: learningRate * warm)
        for p in dense {
            adam.update(p, grad: first.grad(p), offset: 0, count: p.count, stepSize: stepSize, gradScale: scale)
        }
        for s in sparse { s.apply(adam, stepSize: stepSize, gradScale: scale) }
        // The average moves every 8 steps (8 steps' worth of decay at once): cheaper, same result.
        if options.averageDecay > 0 && adam.step % 8 == 0 {
            let t = Float(adam.step)
            let decay = min(options.averageDecay, (1 + t) / (10 + t))
            params.updateAverages(decay: powf(decay, 8))
        }
    }

    /// Adds each worker's d/dx of layer 0 to the rows of the tables that built x.
    private func scatterEmbeddingGradients() {
        let E = config.embeddingDim, slotFeatures = config.features.slotFeatures, F = slotFeatures.count
        for w in workers {
            let dx = w.dEmbedded.pointer
            for n in 0..<(w.T * w.B) {
                let g = dx + n * E
                sparse[0].add(row: Int(w.words[n]), g)
                for f in 0..<F where w.featureIDs[n * F + f] >= 0 {
                    sparse[1 + slotFeatures[f]].add(row: Int(w.featureIDs[n * F + f]), g)
                }
            }
        }
    }

    private func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

extension TrainWorker {
    /// Loads this worker's rows of chunk `chunk` from the epoch plan.
    func fill(plan: EpochPlan, corpus: EncodedCorpus, chunk: Int, wordDropout: Float) {
        hasTeacher = !corpus.teacher.isEmpty
        for t in 0..<T {
            let offset = chunk * Tc + t
            for b in 0..<B {
                let n = t * B + b
                guard let g = plan.position(row: firstRow + b, offset: offset) else {
                    words[n] = 0
                    for f in 0..<F { featureIDs[n * F + f] = 0 }
                    resets[n] = true
                    if t < Tc {
                        targets[n] = -1; seeing[n] = -1; nextTags[n] = -1; nextWords[n] = -1
                        if hasTeacher { (teacher.pointer + n * C).update(repeating: 1 / Float(C), count: C) }
                    }
                    continue
                }
                let token = Int(plan.order[g])
                var word = corpus.words[token]
                if word != 0 && wordDropout > 0 && rng.nextUnitFloat() < wordDropout { word = 0 }
                words[n] = word
                for f in 0..<F { featureIDs[n * F + f] = corpus.features[token * F + f] }
                if word == 0 && lowerNoise > 0 {
                    for (f, buckets) in lowerFeatures where rng.nextUnitFloat() < lowerNoise {
                        featureIDs[n * F + f] = Int32(truncatingIfNeeded: rng.next() % UInt64(buckets))
                    }
                }
                resets[n] = plan.reset[g]
                if t < Tc {
                    targets[n] = corpus.tags[token]
                    if hasTeacher {
                        corpus.teacher.withUnsafeBufferPointer {
                            (teacher.pointer + n * C).update(from: $0.baseAddress! + token * C, count: C)
                        }
                    }
                    seeing[n] = Int32(min(k, Int(plan.segmentEnd[g]) - g - 1))
                    let hasNext = g + 1 < Int(plan.segmentEnd[g])
                    let next = hasNext ? Int(plan.order[g + 1]) : 0
                    nextTags[n] = hasNext ? corpus.tags[next] : -1
                    let w = Int(corpus.words[next]), classes = nextWordLogits.count / max(1, Tc * B)
                    nextWords[n] = hasNext && classes > 0 ? Int32(w < classes ? w : 0) : -1
                }
            }
        }
    }
}
