package dev.graft.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.graft.Torchvision;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Params;
import dev.graft.model.nn.Torch;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The optimizer seam against PyTorch: graft's AdamW and SGD updates on a tiny linear model (a weight matrix that
 * decays, a bias that may not) against torch.optim.AdamW and torch.optim.SGD from the same start and data, step by
 * step, and their state through a checkpoint.
 */
class OptimizerTest {
    static final int STEPS = 6;
    static final float[] W0 = {0.5f, -0.3f, 0.2f, 0.1f, -0.4f, 0.25f, 0.05f, -0.15f, 0.3f, 0.2f, -0.1f, 0.45f};
    static final float[] B0 = {0.1f, -0.2f, 0.05f};

    /** x (8 x 4) and targets (8 x 3) of step k, the same formulas in Java and Python. */
    static float[] x(int k) {
        float[] v = new float[32];
        for (int i = 0; i < 32; i++) {
            v[i] = (float) Math.sin(0.37 * i + 1.3 * k);
        }
        return v;
    }

    static float[] t(int k) {
        float[] v = new float[24];
        for (int i = 0; i < 24; i++) {
            v[i] = (float) Math.cos(0.21 * i - 0.7 * k);
        }
        return v;
    }

    static final String TORCH = """
            import math, sys, torch
            opt, wd, nodecay = sys.argv[1], float(sys.argv[2]), sys.argv[3] == "1"
            W = torch.tensor(%s, dtype=torch.float32).reshape(3, 4).requires_grad_()
            b = torch.tensor(%s, dtype=torch.float32).requires_grad_()
            groups = [{"params": [W], "weight_decay": wd}, {"params": [b], "weight_decay": 0.0 if nodecay else wd}]
            o = torch.optim.AdamW(groups, lr=0.01, betas=(0.9, 0.999), eps=1e-8) if opt == "adamw" else torch.optim.SGD(groups, lr=0.01, momentum=0.9)
            for k in range(%d):
                x = torch.tensor([math.sin(0.37 * i + 1.3 * k) for i in range(32)], dtype=torch.float32).reshape(8, 4)
                t = torch.tensor([math.cos(0.21 * i - 0.7 * k) for i in range(24)], dtype=torch.float32).reshape(8, 3)
                o.zero_grad()
                ((x @ W.t() + b - t) ** 2).mean().backward()
                o.step()
                print(" ".join("%%.9g" %% v for v in W.detach().flatten().tolist() + b.detach().tolist()))
            """;

    static String list(float[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (float f : v) {
            sb.append(sb.length() > 1 ? ", " : "").append(String.format(Locale.ROOT, "%.9g", f));
        }
        return sb.append("]").toString();
    }

    /** graft's trajectory: W then b after each step. */
    static float[][] graft(Optimizer.Kind kind, double wd, boolean decayNormAndBias) {
        try (NDManager m = Torch.newManager()) {
            Layers layers = new Layers(m, null);
            Parameter w = layers.parameter("fc.weight", true, new Shape(3, 4));
            Parameter b = layers.parameter("fc.bias", true, new Shape(3));
            Params.set(w, W0);
            Params.set(b, B0);
            Map<String, Parameter> all = new LinkedHashMap<>();
            all.put("fc.weight", w);
            all.put("fc.bias", b);
            ParamGroups groups = new ParamGroups(List.of(new ParamGroups.Group("all", all, 0.01, 0)), 0.01)
                    .withWeightDecay(wd, decayNormAndBias);
            Optimizer opt = Optimizer.of(new Recipe.Optimization(kind, 0.01, Recipe.Reduction.MEAN, 1, wd, decayNormAndBias, 0.9, 2, 1));
            float[][] out = new float[STEPS][];
            for (int k = 0; k < STEPS; k++) {
                try (NDManager step = m.newSubManager(); GradientCollector gc = Torch.engine().newGradientCollector()) {
                    NDArray x = step.create(x(k), new Shape(8, 4));
                    NDArray t = step.create(t(k), new Shape(8, 3));
                    NDArray y = x.matMul(w.getArray().transpose()).add(b.getArray()).sub(t);
                    gc.backward(y.mul(y).mean());
                }
                opt.step(groups, 1, Double.NaN);
                float[] wb = new float[15];
                System.arraycopy(w.getArray().toFloatArray(), 0, wb, 0, 12);
                System.arraycopy(b.getArray().toFloatArray(), 0, wb, 12, 3);
                out[k] = wb;
            }
            return out;
        }
    }

    static float[][] torch(String opt, double wd, boolean noDecay) throws Exception {
        String out = Torchvision.run(String.format(Locale.ROOT, TORCH, list(W0), list(B0), STEPS), opt, String.valueOf(wd), noDecay ? "1" : "0");
        String[] lines = out.trim().split("\n");
        float[][] v = new float[lines.length][];
        for (int k = 0; k < lines.length; k++) {
            String[] f = lines[k].trim().split(" ");
            v[k] = new float[f.length];
            for (int i = 0; i < f.length; i++) {
                v[k][i] = Float.parseFloat(f[i]);
            }
        }
        return v;
    }

    static void assertSameTrajectory(float[][] want, float[][] got, String what) {
        assertEquals(want.length, got.length);
        for (int k = 0; k < want.length; k++) {
            for (int i = 0; i < want[k].length; i++) {
                assertEquals(want[k][i], got[k][i], 2e-6 + 2e-6 * Math.abs(want[k][i]), what + ": step " + (k + 1) + ", value " + i);
            }
        }
    }

    @Test
    void adamWMatchesTorchWithAndWithoutDecayOnBiases() throws Exception {
        float[][] excluded = graft(Optimizer.Kind.ADAMW, 0.1, false);
        float[][] everywhere = graft(Optimizer.Kind.ADAMW, 0.1, true);
        assertSameTrajectory(torch("adamw", 0.1, true), excluded, "AdamW, no decay on the bias");
        assertSameTrajectory(torch("adamw", 0.1, false), everywhere, "AdamW, decay everywhere");
        // the exclusion is real: the bias moves differently with and without decay
        assertTrue(Math.abs(excluded[STEPS - 1][12] - everywhere[STEPS - 1][12]) > 1e-5, "the bias's decay made no difference");
        assertSameTrajectory(torch("adamw", 0.0, false), graft(Optimizer.Kind.ADAMW, 0.0, true), "AdamW without decay");
    }

    @Test
    void sgdMatchesTorchWithMomentum() throws Exception {
        // graft's SGD folds the rate into the velocity; with a constant rate it is torch's SGD exactly
        assertSameTrajectory(torch("sgd", 0.0, false), graft(Optimizer.Kind.SGD, 0.0, true), "SGD momentum 0.9");
    }

    @Test
    void stateRoundTripsByName() {
        try (NDManager m = Torch.newManager()) {
            Layers layers = new Layers(m, null);
            Parameter w = layers.parameter("w", true, new Shape(2, 2));
            Map<String, Parameter> all = Map.of("w", w);
            ParamGroups g = new ParamGroups(List.of(new ParamGroups.Group("all", all, 0.1, 0.01)), 0.1);
            AdamW a = new AdamW(0.9, 0.999, 1e-8);
            for (int k = 0; k < 3; k++) {
                try (GradientCollector gc = Torch.engine().newGradientCollector()) {
                    gc.backward(w.getArray().add(1).mul(w.getArray().add(k)).sum());
                }
                a.step(g, 1, Double.NaN);
            }
            var state = a.state();
            assertEquals(List.of("exp_avg/w", "exp_avg_sq/w", "step/w"), List.copyOf(state.names()));
            assertEquals(3, state.get("step/w").toLongs()[0]);
            AdamW b = new AdamW(0.9, 0.999, 1e-8);
            b.load(state, all);
            assertEquals(java.util.Arrays.toString(state.get("exp_avg_sq/w").toFloats()),
                    java.util.Arrays.toString(b.state().get("exp_avg_sq/w").toFloats()));
        }
    }
}
