package fadamgomlx

import (
	"fmt"
	"math"

	"github.com/fadam-go/fadam"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// optimizer implements optimizers.Interface (and train.OptimizeWithGradients, so it works with
// gradient accumulation) for the three algorithms.
type optimizer struct {
	config *Config
}

// UpdateGraph builds the graph of one training step: the gradients of loss with respect to every
// trainable variable, then the optimizer update. It implements optimizers.Interface and panics
// on error, as GoMLX graph-building functions do.
func (o *optimizer) UpdateGraph(ctx *context.Context, g *Graph, loss *Node) {
	_ = g
	if !loss.Shape().IsScalar() {
		panic(fmt.Errorf("fadamgomlx: %s needs a scalar loss, got shape %s", o.config.algorithm, loss.Shape()))
	}
	grads := ctx.BuildTrainableVariablesGradientsGraph(loss)
	o.UpdateGraphWithGradients(ctx, grads, loss.DType())
}

// UpdateGraphWithGradients applies one optimizer step given the gradients of the trainable
// variables, in the order of ctx.IterVariables (as returned by
// context.BuildTrainableVariablesGradientsGraph).
func (o *optimizer) UpdateGraphWithGradients(ctx *context.Context, grads []*Node, lossDType dtypes.DType) {
	c := o.config
	if err := c.Validate(); err != nil {
		panic(err)
	}
	if len(grads) == 0 {
		panic(fmt.Errorf("fadamgomlx: %s: no gradients: are there trainable variables?", c.algorithm))
	}
	g := grads[0].Graph()
	dtype := c.dtype
	if dtype == dtypes.InvalidDType {
		dtype = lossDType
	}

	lrValue := c.learningRate
	if lrValue < 0 {
		lrValue = context.GetParamOr(ctx, optimizers.ParamLearningRate, DefaultLearningRate)
	}
	learningRate := optimizers.LearningRateVar(ctx, dtype, lrValue).ValueGraph(g)

	// The loop's global step advances as with GoMLX's optimizers; t is this optimizer's own count
	// (Algorithm 1, line 4), so Clear restarts the bias correction.
	_ = optimizers.IncrementGlobalStepGraph(ctx, g, dtype)
	t := optimizers.IncrementGlobalStepGraph(ctx.In(c.scopeName), g, dtype)
	s := stepScalars{learningRate: learningRate, beta2Hat: beta2Hat(t, c.beta2)}

	if c.maxGradNorm > 0 {
		var gradNorm *Node
		grads, gradNorm = clipGlobalNorm(grads, c.maxGradNorm, dtype)
		ctx.Checked(false).InAbsPath(context.ScopeSeparator+c.scopeName).WithInitializer(initializers.Zero).
			VariableWithShape(GradNormVariable, gradNorm.Shape()).SetTrainable(false).SetValueGraph(gradNorm)
	}

	numTrainable := len(grads)
	i := 0
	for v := range ctx.IterVariables() {
		if !v.Trainable || !v.InUseByGraph(g) {
			continue
		}
		if i < numTrainable {
			o.updateVariable(ctx, g, v, grads[i], s)
		}
		i++
	}
	if i != numTrainable {
		panic(fmt.Errorf("fadamgomlx: %s: got gradients for %d variables but sees %d trainable "+
			"variables: were variables created in between?", c.algorithm, numTrainable, i))
	}
}

// GradNormVariable is the name of the scalar variable, in the optimizer's scope, that holds the
// L2 norm of all the gradients of the last step taken together, before clipping, when
// Config.MaxGradNorm is set (read it with Config.GradNorm).
const GradNormVariable = "global_grad_norm"

// clipGlobalNorm is global-norm clipping with PyTorch's clip_grad_norm_ semantics: n is the L2
// norm of all gradients together (computed in dtype); if n > maxNorm every gradient is
// multiplied by maxNorm/(n + 1e-6). It returns the clipped gradients (a new slice) and n.
func clipGlobalNorm(grads []*Node, maxNorm float64, dtype dtypes.DType) ([]*Node, *Node) {
	g := grads[0].Graph()
	var norms []*Node
	for _, gr := range grads {
		if gr.Shape().Size() == 0 {
			continue
		}
		if gr.DType() != dtype {
			gr = ConvertDType(gr, dtype)
		}
		norms = append(norms, Reshape(l2Norm(gr), 1))
	}
	total := ScalarZero(g, dtype)
	if len(norms) > 0 {
		total = l2Norm(Concatenate(norms, 0))
	}
	limit := Scalar(g, dtype, maxNorm)
	factor := Where(GreaterThan(total, limit), Div(limit, AddScalar(total, 1e-6)), ScalarOne(g, dtype))
	out := make([]*Node, len(grads))
	for i, gr := range grads {
		f := factor
		if gr.DType() != dtype {
			f = ConvertDType(factor, gr.DType())
		}
		out[i] = Mul(gr, f)
	}
	return out, total
}

// l2Norm is sqrt(Σx²) over the whole tensor, computed on x/max|x| as rms is.
func l2Norm(x *Node) *Node {
	scale := safeScale(ReduceAllMax(Abs(x)))
	return Mul(scale, Sqrt(ReduceAllSum(Square(Div(x, scale)))))
}

// stepScalars are the per-step scalars shared by every variable, in the optimizer's dtype.
type stepScalars struct {
	learningRate, beta2Hat *Node
}

// beta2Hat is Algorithm 1, line 6: β̂₂ = β₂(1−β₂^{t−1})/(1−β₂^t), computed as
// β₂·expm1((t−1)·ln β₂)/expm1(t·ln β₂) so that 1−β₂^t keeps full precision in float32.
// It is exactly 0 at t = 1.
func beta2Hat(t *Node, beta2 float64) *Node {
	g, dtype := t.Graph(), t.DType()
	if beta2 == 0 {
		return ScalarZero(g, dtype)
	}
	logBeta2 := Scalar(g, dtype, math.Log(beta2))
	prev := Expm1(Mul(Sub(t, ScalarOne(g, dtype)), logBeta2))
	cur := Expm1(Mul(t, logBeta2))
	return MulScalar(Div(prev, cur), beta2)
}

// updateVariable builds the update of one variable and its optimizer state.
func (o *optimizer) updateVariable(ctx *context.Context, g *Graph, v *context.Variable, grad *Node, s stepScalars) {
	c := o.config
	dtype := c.dtype
	if dtype == dtypes.InvalidDType {
		dtype = v.DType()
	}
	convert := func(x *Node) *Node {
		if x.DType() != dtype {
			return ConvertDType(x, dtype)
		}
		return x
	}
	grad = convert(grad)
	optimizers.TraceNaNInGradients(ctx, v, grad)
	grad = optimizers.ClipNaNsInGradients(ctx, grad)
	if c.maximize {
		grad = Neg(grad)
	}
	theta := v.ValueGraph(g)
	thetaC := convert(theta)
	learningRate, b2 := convert(s.learningRate), convert(s.beta2Hat)

	st := o.state(ctx, v, dtype)
	weightDecay, lrScale := o.options(v)
	if lrScale != 1 {
		learningRate = MulScalar(learningRate, lrScale)
	}
	var step *Node
	if c.algorithm == NameAdafactor {
		step = o.adafactorStep(g, st, grad, thetaC, learningRate, b2, weightDecay)
	} else {
		step = o.fadamStep(g, st, grad, thetaC, learningRate, b2, weightDecay)
	}
	step = optimizers.ClipStepByValue(ctx, step)
	updated := Sub(thetaC, step)
	updated = optimizers.ClipNaNsInUpdates(ctx, thetaC, updated)
	if updated.DType() != theta.DType() {
		updated = ConvertDType(updated, theta.DType())
	}
	v.SetValueGraph(updated)
}

// options returns variable v's weight decay λ and learning-rate scale: its ParamOptions (the
// optimizer's λ and scale 1 without them), and λ = 0 for a variable excluded by
// WeightDecayMinRank or ExcludeFromWeightDecay. It panics on invalid options.
func (o *optimizer) options(v *context.Variable) (weightDecay, lrScale float64) {
	c := o.config
	opts := fadam.ParamOptions{}
	if c.paramOptions != nil {
		opts = c.paramOptions(v)
		lr := max(c.learningRate, 0) // a learning rate from the context is checked as it changes
		if err := opts.Validate(lr); err != nil {
			panic(fmt.Errorf("fadamgomlx: %s: variable %s: %w", c.algorithm, v.ScopeAndName(), err))
		}
	}
	weightDecay, lrScale = opts.EffectiveWeightDecay(c.weightDecay), opts.EffectiveLRScale()
	if v.Shape().Rank() < c.decayMinRank || (c.excludeDecay != nil && c.excludeDecay(v)) {
		weightDecay = 0
	}
	return weightDecay, lrScale
}

// fadamStep is Algorithm 1, lines 7–14 (Algorithm 2, lines 7–16, for a factored Fisher). It
// updates the momentum and Fisher state and returns the step η(m + λḡ_w) to subtract from θ.
func (o *optimizer) fadamStep(g *Graph, st *state, grad, theta, learningRate, b2 *Node, weightDecay float64) *Node {
	c := o.config
	dtype := grad.DType()

	// Lines 7 (Algorithm 2: 7–9): EMA of the diagonal empirical FIM, kept as √f.
	sqrtFisher := st.updateSqrtFisher(grad, b2, 0)

	// Line 8: adaptive epsilon, and the denominator f^ρ + ε̂^{2ρ} = (√f)^{2ρ} + ε̂^{2ρ}.
	rmsGrad := rms(grad)
	var epsTerm *Node
	switch c.variant {
	case fadam.PyTorchReference:
		epsTerm = MulScalar(MaxScalar(rmsGrad, 1.0), c.epsilon)
	case fadam.LaterEps:
		epsTerm = MulScalar(MinScalar(rmsGrad, 1.0), c.epsilon)
	default:
		epsHat := MinScalar(MulScalar(rmsGrad, c.epsilon2), c.epsilon)
		epsTerm = powRho(epsHat, 2*c.rho)
	}
	denom := Add(powRho(sqrtFisher, 2*c.rho), epsTerm)

	// Zero-denominator rule: an element with no Fisher information contributes 0.
	noInfo := Equal(denom, ScalarZero(g, dtype))
	safeDenom := Where(noInfo, OnesLike(denom), denom)
	zeros := ZerosLike(denom)

	// Lines 9–10: invariant natural gradient, clipped by RMS.
	natGrad := o.clipRMS(Where(noInfo, zeros, Div(grad, safeDenom)))

	// Line 11: momentum of the natural gradient (no bias correction).
	momentum := Add(MulScalar(st.momentum.ValueGraph(g), c.beta1), MulScalar(natGrad, 1-c.beta1))
	st.momentum.SetValueGraph(momentum)

	// Lines 12–14: Fisher-weighted weight decay, clipped by RMS, and the step.
	direction := momentum
	if weightDecay != 0 {
		weightDecayGrad := o.clipRMS(Where(noInfo, zeros, Div(theta, safeDenom)))
		direction = Add(momentum, MulScalar(weightDecayGrad, weightDecay))
	}
	return Mul(learningRate, direction)
}

// adafactorStep is Algorithm 4, lines 7–13: ε inside the EMA, η inside the momentum, and λθ not
// scaled by η. It returns the step m + λθ to subtract from θ.
func (o *optimizer) adafactorStep(g *Graph, st *state, grad, theta, learningRate, b2 *Node, weightDecay float64) *Node {
	c := o.config
	dtype := grad.DType()

	// Lines 7–9: factored (or, for rank ≤ 1, full) EMA of g² + ε, kept as √f.
	sqrtFisher := st.updateSqrtFisher(grad, b2, c.epsilon)

	// Lines 10–11: ḡ = g/√f clipped by RMS; an element with f = 0 contributes 0.
	noInfo := Equal(sqrtFisher, ScalarZero(g, dtype))
	safe := Where(noInfo, OnesLike(sqrtFisher), sqrtFisher)
	natGrad := o.clipRMS(Where(noInfo, ZerosLike(sqrtFisher), Div(grad, safe)))

	// Line 12: momentum of η·ḡ.
	momentum := Add(MulScalar(st.momentum.ValueGraph(g), c.beta1),
		Mul(learningRate, MulScalar(natGrad, 1-c.beta1)))
	st.momentum.SetValueGraph(momentum)

	// Line 13.
	if weightDecay != 0 {
		return Add(momentum, MulScalar(theta, weightDecay))
	}
	return momentum
}

// clipRMS is the per-tensor clipping of Algorithm 1, lines 10 and 13: x / max(1, RMS(x)/c), or,
// for the PyTorch codes (PyTorchReference, LaterEps), x / (max(1, RMS(x))/c).
func (o *optimizer) clipRMS(x *Node) *Node {
	c := o.config
	if c.clip == 0 { // Adafactor only (Validate): no clipping
		return x
	}
	r := rms(x)
	if c.variant != fadam.Paper && c.algorithm != NameAdafactor { // PyTorchReference, LaterEps
		return Div(x, DivScalar(MaxScalar(r, 1.0), c.clip))
	}
	return Div(x, MaxScalar(DivScalar(r, c.clip), 1.0))
}

// rms is RMS(x) = sqrt(mean(x²)) over the whole tensor, computed as s·sqrt(mean((x/s)²)) with
// s = max|x| so that squares neither underflow nor overflow in float32 (the core package sums
// in float64 for the same reason). It is 0 for an all-zero x.
func rms(x *Node) *Node {
	scale := safeScale(ReduceAllMax(Abs(x)))
	return Mul(scale, Sqrt(ReduceAllMean(Square(Div(x, scale)))))
}

// powRho is x^p, with a square root for the default p = 0.5 and no operation for p = 1.
func powRho(x *Node, p float64) *Node {
	switch p {
	case 0.5:
		return Sqrt(x)
	case 1:
		return x
	}
	return Pow(x, Scalar(x.Graph(), x.DType(), p))
}

// state holds the context variables of one trainable variable: the momentum m, and either the
// full Fisher or, when factored, its row and column EMAs R and C. As in the core package, they
// hold square roots (√f, √R, √C): in float32, g² underflows for |g| < 1e-19 and overflows for
// |g| > 1e19, while √f keeps g's range.
type state struct {
	momentum, sqrtFisher, sqrtRows, sqrtCols *context.Variable
}

// factored reports whether the optimizer keeps a factored Fisher for a variable of this shape.
func (o *optimizer) factored(shape shapes.Shape) bool {
	return o.config.algorithm != NameFAdam && shape.Rank() >= 2
}

// state returns (creating them if needed) the state variables of v, stored, as Adam's moments
// are, under the optimizer's scope followed by v's scope.
func (o *optimizer) state(ctx *context.Context, v *context.Variable, dtype dtypes.DType) *state {
	scopePath := context.ScopeSeparator + o.config.scopeName + v.Scope()
	ctx = ctx.Checked(false).InAbsPath(scopePath)
	// Algorithm 1/2, line 2: f, R, C start at 1; Algorithm 4, line 2: at 0. (β̂₂ = 0 at t = 1
	// makes the initial value irrelevant; it matters only for its documented meaning.)
	fisherInit := initializers.One
	if o.config.algorithm == NameAdafactor {
		fisherInit = initializers.Zero
	}
	shape := v.Shape().Clone()
	shape.DType = dtype
	newVar := func(name string, init initializers.VariableInitializer, shape shapes.Shape) *context.Variable {
		return ctx.WithInitializer(init).VariableWithShape(v.Name()+"_"+name, shape).SetTrainable(false)
	}
	st := &state{momentum: newVar("momentum", initializers.Zero, shape)}
	if !o.factored(shape) {
		st.sqrtFisher = newVar("sqrt_fisher", fisherInit, shape)
		return st
	}
	rank := shape.Rank()
	rowsShape := shapes.Make(dtype, shape.Dimensions[:rank-1]...)
	colsShape := shapes.Make(dtype, append(append([]int{}, shape.Dimensions[:rank-2]...), shape.Dimensions[rank-1])...)
	st.sqrtRows = newVar("sqrt_fisher_rows", fisherInit, rowsShape)
	st.sqrtCols = newVar("sqrt_fisher_cols", fisherInit, colsShape)
	return st
}

// updateSqrtFisher updates the Fisher state with the EMA of g² + eps and returns √f, of the
// variable's shape: Algorithm 1, line 7, or Algorithm 2, lines 7–9 (Algorithm 4 adds eps).
func (st *state) updateSqrtFisher(grad, b2 *Node, eps float64) *Node {
	g := grad.Graph()
	sqrtB2, sqrtOneMinusB2 := Sqrt(b2), Sqrt(OneMinus(b2))
	// √(β̂₂ s² + (1−β̂₂) x²) for the state s and the new √(sum of g² + eps) x.
	ema := func(v *context.Variable, x *Node) *Node {
		updated := scaledHypot(Mul(sqrtB2, v.ValueGraph(g)), Mul(sqrtOneMinusB2, x))
		v.SetValueGraph(updated)
		return updated
	}
	// √(x² + n·eps), the square root of a sum of n terms g² + eps whose g² part is x².
	addEps := func(x *Node, n int) *Node {
		if eps == 0 {
			return x
		}
		return scaledHypot(x, Scalar(g, x.DType(), math.Sqrt(float64(n)*eps)))
	}
	if st.sqrtFisher != nil {
		return ema(st.sqrtFisher, addEps(Abs(grad), 1))
	}
	rank := grad.Rank()
	dims := grad.Shape().Dimensions
	// Row and column norms of g, computed on g / max|g| so that g² cannot under- or overflow.
	scale := safeScale(ReduceAllMax(Abs(grad)))
	scaledSq := Square(Div(grad, scale))
	rowNorms := addEps(Mul(scale, Sqrt(ReduceSum(scaledSq, rank-1))), dims[rank-1]) // …×n
	colNorms := addEps(Mul(scale, Sqrt(ReduceSum(scaledSq, rank-2))), dims[rank-2]) // …×m
	sqrtRows := ema(st.sqrtRows, rowNorms)
	sqrtCols := ema(st.sqrtCols, colNorms)
	// √f_ij = √R_i · (√C_j / √Σ_i R_i), and 0 where Σ R = 0.
	rowScale := safeScale(ReduceAndKeep(sqrtRows, ReduceMax, rank-2)) // …×1
	sqrtTotal := Mul(rowScale, Sqrt(ReduceAndKeep(Square(Div(sqrtRows, rowScale)), ReduceSum, rank-2)))
	noInfo := Equal(sqrtTotal, ZerosLike(sqrtTotal))
	safe := Where(noInfo, OnesLike(sqrtTotal), sqrtTotal)
	colShare := Where(BroadcastToShape(noInfo, sqrtCols.Shape()), ZerosLike(sqrtCols), Div(sqrtCols, safe))
	return Mul(ExpandAxes(sqrtRows, -1), ExpandAxes(colShare, -2))
}

// scaledHypot returns √(a² + b²) for a, b ≥ 0, computed on a/s and b/s with s = max(a, b) so
// that the squares neither underflow nor overflow. It is 0 where a = b = 0.
func scaledHypot(a, b *Node) *Node {
	s := safeScale(Max(a, b))
	return Mul(s, Sqrt(Add(Square(Div(a, s)), Square(Div(b, s)))))
}

// safeScale replaces zeros of a non-negative scale by ones, so that x/scale is defined and
// scale·f(x/scale) is still 0 for x = 0.
func safeScale(scale *Node) *Node {
	return Where(Equal(scale, ZerosLike(scale)), OnesLike(scale), scale)
}

// Clear deletes the optimizer's state (momentum, Fisher and step counter). It implements
// optimizers.Interface.
func (o *optimizer) Clear(ctx *context.Context) error {
	if err := ctx.In(o.config.scopeName).DeleteVariablesInScope(); err != nil {
		return fmt.Errorf("fadamgomlx: clearing %s state: %w", o.config.algorithm, err)
	}
	return nil
}
