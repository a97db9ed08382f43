package fadamgomlx

import (
	"fmt"
	"math"
	"slices"
	"strings"

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
	vars := o.trainableVariables(ctx, g, len(grads))
	dtype := computeDType(c.dtype, lossDType)

	lrValue := c.learningRate
	if lrValue < 0 {
		lrValue = context.GetParamOr(ctx, optimizers.ParamLearningRate, DefaultLearningRate)
	}
	s := &stepContext{learningRate: optimizers.LearningRateVar(ctx, dtype, lrValue).ValueGraph(g), lrValue: lrValue}
	grads = o.prepareGradients(ctx, vars, grads)
	if c.maxNorm > 0 {
		grads, s.keep = o.clipGlobalNorm(ctx, grads, dtype)
	}
	if c.dtype == dtypes.BFloat16 && !c.nearest {
		s.rngVar = o.roundingRNG(ctx)
		s.rng = s.rngVar.ValueGraph(g)
	}

	// The loop's global step advances as with GoMLX's optimizers; t is this optimizer's own count
	// (Algorithm 1, line 4), so Clear restarts the bias correction.
	_ = optimizers.IncrementGlobalStepGraph(ctx, g, dtype)
	t := s.incrementStep(optimizers.GetGlobalStepVar(ctx.In(c.scopeName)), g, dtype)
	s.beta2Hat = beta2Hat(t, c.beta2)
	for _, i := range byName(vars) {
		o.updateVariable(ctx, g, vars[i], grads[i], s)
	}
	if s.rngVar != nil {
		s.set(s.rngVar, s.rng)
	}
}

// trainableVariables returns the trainable variables used by graph g, in the order of
// ctx.IterVariables, and panics unless there are numGrads of them.
func (o *optimizer) trainableVariables(ctx *context.Context, g *Graph, numGrads int) []*context.Variable {
	var vars []*context.Variable
	for v := range ctx.IterVariables() {
		if v.Trainable && v.InUseByGraph(g) {
			vars = append(vars, v)
		}
	}
	if len(vars) != numGrads {
		panic(fmt.Errorf("fadamgomlx: %s: got gradients for %d variables but sees %d trainable "+
			"variables: were variables created in between?", o.config.algorithm, numGrads, len(vars)))
	}
	return vars
}

// prepareGradients returns the gradients as the algorithm sees them before global-norm clipping:
// in the computation dtype, with GoMLX's NaN options (nanlogger, clip_nan) applied, and negated
// to maximise.
func (o *optimizer) prepareGradients(ctx *context.Context, vars []*context.Variable, grads []*Node) []*Node {
	c := o.config
	prepared := make([]*Node, len(grads))
	for i, v := range vars {
		grad := convert(grads[i], computeDType(c.dtype, v.DType()))
		optimizers.TraceNaNInGradients(ctx, v, grad)
		grad = optimizers.ClipNaNsInGradients(ctx, grad)
		if c.maximize {
			grad = Neg(grad)
		}
		prepared[i] = grad
	}
	return prepared
}

// roundingRNG returns (creating it from the seed if needed) the variable holding the state of the
// random numbers of stochastic rounding.
func (o *optimizer) roundingRNG(ctx *context.Context) *context.Variable {
	c := o.config
	state, err := RNGStateFromSeed(c.seed)
	if err != nil {
		panic(fmt.Errorf("fadamgomlx: %s: seeding stochastic rounding: %w", c.algorithm, err))
	}
	return ctx.Checked(false).In(c.scopeName).VariableWithValue(RoundingRNGVariable, state).SetTrainable(false)
}

// byName returns the indices of vars ordered by the variables' scope and name. Variables are
// updated in this order rather than that of ctx.IterVariables (which differs in a context
// restored from a checkpoint), so stochastic rounding draws the same random numbers for each
// variable in a resumed run.
func byName(vars []*context.Variable) []int {
	order := make([]int, len(vars))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(vars[a].ScopeAndName(), vars[b].ScopeAndName()) })
	return order
}

// computeDType is the dtype of the arithmetic for the optimizer's dtype setting and a variable
// (or loss) of dtype own: the setting, or own if none is set, but float32 for bfloat16 (only the
// state is stored in bfloat16).
func computeDType(setting, own dtypes.DType) dtypes.DType {
	dtype := setting
	if dtype == dtypes.InvalidDType {
		dtype = own
	}
	if setting == dtypes.BFloat16 {
		return dtypes.Float32
	}
	return dtype
}

// convert returns x in dtype.
func convert(x *Node, dtype dtypes.DType) *Node {
	if x.DType() != dtype {
		return ConvertDType(x, dtype)
	}
	return x
}

// stepContext is what the updates of all variables share in one step.
type stepContext struct {
	learningRate, beta2Hat *Node   // in the step's dtype
	lrValue                float64 // the learning rate's initial value, to check LR scales against
	// keep is nil, or a scalar boolean that is true when the step must change nothing (the global
	// gradient norm is not finite).
	keep *Node
	// rngVar holds the state of the random numbers of stochastic rounding, and rng its current
	// value in the graph; both nil when bfloat16 values are rounded to nearest.
	rngVar *context.Variable
	rng    *Node
}

// set assigns value to v, converted to v's dtype (bfloat16: rounded stochastically, or to nearest),
// unless the step changes nothing.
func (s *stepContext) set(v *context.Variable, value *Node) {
	old := v.ValueGraph(value.Graph())
	if v.DType() == dtypes.BFloat16 && value.DType() == dtypes.Float32 {
		if s.rng != nil {
			var uniform *Node
			s.rng, uniform = RandomUniform(s.rng, value.Shape())
			value = stochasticRoundToBFloat16(value, uniform)
		} else {
			value = roundToBFloat16(value)
		}
	}
	value = convert(value, v.DType())
	if s.keep != nil {
		value = Where(s.keep, old, value)
	}
	v.SetValueGraph(value)
}

// incrementStep adds 1 to the step counter stepVar (unless the step changes nothing) and returns
// the new count in dtype.
func (s *stepContext) incrementStep(stepVar *context.Variable, g *Graph, dtype dtypes.DType) *Node {
	count := stepVar.ValueGraph(g)
	next := Add(count, OnesLike(count))
	s.set(stepVar, next)
	return convert(next, dtype)
}

// clipGlobalNorm is PyTorch's clip_grad_norm_: n = √(Σ over all variables of Σ g²), and every
// gradient is multiplied by maxNorm/(n + 1e-6) if n > maxNorm. It stores n in the context
// variable GradientNormVariable and returns the clipped gradients and a scalar boolean that is
// true when n is not finite. dtype is the step's dtype.
func (o *optimizer) clipGlobalNorm(ctx *context.Context, grads []*Node, dtype dtypes.DType) ([]*Node, *Node) {
	c := o.config
	g := grads[0].Graph()
	normDType := dtypes.Float32
	if dtype == dtypes.Float64 {
		normDType = dtypes.Float64
	}
	// n = s·√(Σ (g/s)²) with s the largest |g| of all variables, so that no square under- or
	// overflows.
	var largest, sumSq *Node
	for _, grad := range grads {
		m := ReduceAllMax(Abs(convert(grad, normDType)))
		if largest == nil {
			largest = m
		} else {
			largest = Max(largest, m)
		}
	}
	scale := safeScale(largest)
	for _, grad := range grads {
		sq := ReduceAllSum(Square(Div(convert(grad, normDType), scale)))
		if sumSq == nil {
			sumSq = sq
		} else {
			sumSq = Add(sumSq, sq)
		}
	}
	norm := Mul(scale, Sqrt(sumSq))
	normVar := ctx.Checked(false).In(c.scopeName).
		VariableWithValue(GradientNormVariable, shapes.CastAsDType(0, normDType)).SetTrainable(false)
	normVar.SetValueGraph(convert(norm, normVar.DType()))
	keep := LogicalNot(IsFinite(norm))
	if math.IsInf(c.maxNorm, 1) {
		return grads, keep
	}
	factor := Where(GreaterThan(norm, Scalar(g, normDType, c.maxNorm)),
		Div(Scalar(g, normDType, c.maxNorm), AddScalar(norm, 1e-6)), ScalarOne(g, normDType))
	clipped := make([]*Node, len(grads))
	for i, grad := range grads {
		clipped[i] = Mul(grad, convert(factor, grad.DType()))
	}
	return clipped, keep
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

// updateVariable builds the update of one variable and its optimizer state; grad is already in
// the computation dtype.
func (o *optimizer) updateVariable(ctx *context.Context, g *Graph, v *context.Variable, grad *Node, s *stepContext) {
	c := o.config
	dtype := grad.DType()
	theta := convert(v.ValueGraph(g), dtype)
	learningRate, b2 := convert(s.learningRate, dtype), convert(s.beta2Hat, dtype)
	var weightDecay *Node // nil: no weight decay
	if c.perVariable != nil {
		weightDecayVar, lrScaleVar := o.optionVariables(ctx, v, s.lrValue)
		weightDecay = convert(weightDecayVar.ValueGraph(g), dtype)
		learningRate = Mul(learningRate, convert(lrScaleVar.ValueGraph(g), dtype))
	} else if o.decays(v) {
		weightDecay = Scalar(g, dtype, c.weightDecay)
	}

	st := o.state(ctx, v, dtype, s)
	var step *Node
	if c.algorithm == NameAdafactor {
		step = o.adafactorStep(g, st, grad, theta, learningRate, b2, weightDecay)
	} else {
		step = o.fadamStep(g, st, grad, theta, learningRate, b2, weightDecay)
	}
	step = optimizers.ClipStepByValue(ctx, step)
	updated := optimizers.ClipNaNsInUpdates(ctx, theta, Sub(theta, step))
	s.set(v, updated)
}

// decays reports whether variable v gets weight decay by default (WeightDecayMinRank and
// ExcludeFromWeightDecay).
func (o *optimizer) decays(v *context.Variable) bool {
	c := o.config
	if c.weightDecay == 0 || v.Shape().Rank() < c.decayMinRank {
		return false
	}
	return c.excludeDecay == nil || !c.excludeDecay(v)
}

// optionVariables returns the context variables holding v's weight decay and learning-rate scale
// (see Config.PerVariable), creating them from the rule if they do not exist. It panics if the
// rule returns an invalid value (see checkVariableOptions).
func (o *optimizer) optionVariables(ctx *context.Context, v *context.Variable, lrValue float64) (weightDecay, lrScale *context.Variable) {
	c := o.config
	scoped := ctx.Checked(false).InAbsPath(c.stateScope(v))
	weightDecay = scoped.GetVariable(v.Name() + WeightDecaySuffix)
	lrScale = scoped.GetVariable(v.Name() + LRScaleSuffix)
	if weightDecay != nil && lrScale != nil {
		return weightDecay, lrScale
	}
	opts := VariableOptions{LRScale: 1}
	if o.decays(v) {
		opts.WeightDecay = c.weightDecay
	}
	opts = c.perVariable(v, opts)
	if err := c.checkVariableOptions(v, opts, lrValue); err != nil {
		panic(err)
	}
	weightDecay = scoped.VariableWithValue(v.Name()+WeightDecaySuffix, float32(opts.WeightDecay)).SetTrainable(false)
	lrScale = scoped.VariableWithValue(v.Name()+LRScaleSuffix, float32(opts.LRScale)).SetTrainable(false)
	return weightDecay, lrScale
}

// fadamStep is Algorithm 1, lines 7–14 (Algorithm 2, lines 7–16, for a factored Fisher). It
// updates the momentum and Fisher state and returns the step η(m + λḡ_w) to subtract from θ.
func (o *optimizer) fadamStep(g *Graph, st *state, grad, theta, learningRate, b2, weightDecay *Node) *Node {
	c := o.config
	dtype := grad.DType()

	// Lines 7 (Algorithm 2: 7–9): EMA of the diagonal empirical FIM, kept as √f.
	sqrtFisher := st.updateSqrtFisher(grad, b2, 0)

	// Line 8: adaptive epsilon, and the denominator f^ρ + ε̂^{2ρ} = (√f)^{2ρ} + ε̂^{2ρ}
	// (the other variants add ε̂ itself).
	rmsGrad := rms(grad)
	var epsTerm *Node
	switch c.variant {
	case fadam.PyTorchReference:
		epsTerm = MulScalar(MaxScalar(rmsGrad, 1.0), c.epsilon)
	case LaterEpsilon:
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
	momentum := Add(MulScalar(st.get(st.momentum), c.beta1), MulScalar(natGrad, 1-c.beta1))
	st.set(st.momentum, momentum)

	// Lines 12–14: Fisher-weighted weight decay, clipped by RMS, and the step.
	direction := momentum
	if weightDecay != nil {
		weightDecayGrad := o.clipRMS(Where(noInfo, zeros, Div(theta, safeDenom)))
		direction = Add(momentum, Mul(weightDecayGrad, weightDecay))
	}
	return Mul(learningRate, direction)
}

// adafactorStep is Algorithm 4, lines 7–13: ε inside the EMA, η inside the momentum, and λθ not
// scaled by η. It returns the step m + λθ to subtract from θ.
func (o *optimizer) adafactorStep(g *Graph, st *state, grad, theta, learningRate, b2, weightDecay *Node) *Node {
	c := o.config
	dtype := grad.DType()

	// Lines 7–9: factored (or, for rank ≤ 1, full) EMA of g² + ε, kept as √f.
	sqrtFisher := st.updateSqrtFisher(grad, b2, c.epsilon)

	// Lines 10–11: ḡ = g/√f clipped by RMS; an element with f = 0 contributes 0.
	noInfo := Equal(sqrtFisher, ScalarZero(g, dtype))
	safe := Where(noInfo, OnesLike(sqrtFisher), sqrtFisher)
	natGrad := o.clipRMS(Where(noInfo, ZerosLike(sqrtFisher), Div(grad, safe)))

	// Line 12: momentum of η·ḡ.
	momentum := Add(MulScalar(st.get(st.momentum), c.beta1),
		Mul(learningRate, MulScalar(natGrad, 1-c.beta1)))
	st.set(st.momentum, momentum)

	// Line 13.
	if weightDecay != nil {
		return Add(momentum, Mul(theta, weightDecay))
	}
	return momentum
}

// clipRMS is the per-tensor clipping of Algorithm 1, lines 10 and 13: x / max(1, RMS(x)/c), or,
// for the PyTorch reference and LaterEpsilon, x / (max(1, RMS(x))/c).
func (o *optimizer) clipRMS(x *Node) *Node {
	c := o.config
	if c.clip == 0 { // Adafactor only (Validate): no clipping
		return x
	}
	r := rms(x)
	if (c.variant == fadam.PyTorchReference || c.variant == LaterEpsilon) && c.algorithm != NameAdafactor {
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
//
// The variables may be stored in bfloat16 while the arithmetic is in float32: get and set convert.
type state struct {
	momentum, sqrtFisher, sqrtRows, sqrtCols *context.Variable
	g                                        *Graph
	dtype                                    dtypes.DType // of the arithmetic
	step                                     *stepContext
}

// get returns the value of the state variable v in the computation dtype.
func (st *state) get(v *context.Variable) *Node {
	return convert(v.ValueGraph(st.g), st.dtype)
}

// set stores value in the state variable v (see stepContext.set).
func (st *state) set(v *context.Variable, value *Node) {
	st.step.set(v, value)
}

// factored reports whether the optimizer keeps a factored Fisher for a variable of this shape.
func (o *optimizer) factored(shape shapes.Shape) bool {
	return o.config.algorithm != NameFAdam && shape.Rank() >= 2
}

// state returns (creating them if needed) the state variables of v, stored, as Adam's moments
// are, under the optimizer's scope followed by v's scope, in bfloat16 if the optimizer's dtype
// is bfloat16 and otherwise in the computation dtype.
func (o *optimizer) state(ctx *context.Context, v *context.Variable, dtype dtypes.DType, s *stepContext) *state {
	ctx = ctx.Checked(false).InAbsPath(o.config.stateScope(v))
	// Algorithm 1/2, line 2: f, R, C start at 1; Algorithm 4, line 2: at 0. (β̂₂ = 0 at t = 1
	// makes the initial value irrelevant; it matters only for its documented meaning.)
	fisherInit := initializers.One
	if o.config.algorithm == NameAdafactor {
		fisherInit = initializers.Zero
	}
	stateDType := dtype
	if o.config.dtype == dtypes.BFloat16 {
		stateDType = dtypes.BFloat16
	}
	shape := v.Shape().Clone()
	shape.DType = stateDType
	newVar := func(name string, init initializers.VariableInitializer, shape shapes.Shape) *context.Variable {
		return ctx.WithInitializer(init).VariableWithShape(v.Name()+"_"+name, shape).SetTrainable(false)
	}
	st := &state{momentum: newVar("momentum", initializers.Zero, shape), g: s.learningRate.Graph(), dtype: dtype, step: s}
	if !o.factored(shape) {
		st.sqrtFisher = newVar("sqrt_fisher", fisherInit, shape)
		return st
	}
	rank := shape.Rank()
	rowsShape := shapes.Make(stateDType, shape.Dimensions[:rank-1]...)
	colsShape := shapes.Make(stateDType, append(append([]int{}, shape.Dimensions[:rank-2]...), shape.Dimensions[rank-1])...)
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
		updated := scaledHypot(Mul(sqrtB2, st.get(v)), Mul(sqrtOneMinusB2, x))
		st.set(v, updated) // the step uses the value before it is rounded to the state's dtype
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

// roundToBFloat16 rounds float32 x to the nearest bfloat16 value (ties to even) and returns it as
// float32, so that the conversion to bfloat16 is exact on every backend (GoMLX's pure Go backend
// truncates, XLA rounds). It is Veltkamp's splitting: with σ = 2¹⁶+1, σx − (σx − x) is x rounded
// to 24−16 = 8 significant bits, bfloat16's precision, in IEEE float32 arithmetic. For |x| ≥ 2¹¹¹,
// where σx would overflow, and for NaN and ±Inf, x is returned unchanged.
func roundToBFloat16(x *Node) *Node {
	return Where(LessThan(Abs(x), Scalar(x.Graph(), x.DType(), 0x1p111)), roundSignificand(x, 8), x)
}

// roundSignificand rounds float32 x to the nearest value with bits significant bits (ties to
// even) by Veltkamp's splitting, σx − (σx − x) with σ = 2^(24−bits)+1. σx must not overflow, and
// the backend must evaluate the float32 operations as written (without the reassociation that
// fast-math modes allow).
func roundSignificand(x *Node, bits int) *Node {
	scaled := MulScalar(x, float64(int(1)<<(24-bits)+1))
	return Sub(scaled, Sub(scaled, x))
}

// stochasticRoundToBFloat16 rounds float32 x to one of the two nearest bfloat16 values, returned
// as float32: up (in magnitude) with probability (|x| − lo)/ulp, where lo is |x| truncated to
// bfloat16 and ulp the spacing of bfloat16 values there, decided by uniform ∈ [0, 1) of x's shape.
// The expected result is x. Everything is exact float32 arithmetic: p = 2^⌊log₂|x|⌋ is |x|
// rounded to one significant bit (halved if that rounded up), ulp = p·2⁻⁷. Outside
// [2⁻¹²⁶, 2¹⁰⁴), where these steps would underflow or overflow, x is rounded to nearest.
func stochasticRoundToBFloat16(x, uniform *Node) *Node {
	g, dtype := x.Graph(), x.DType()
	magnitude := Abs(x)
	power := roundSignificand(magnitude, 1)
	power = Where(GreaterThan(power, magnitude), MulScalar(power, 0.5), power)
	ulp := MulScalar(power, 0x1p-7)
	nearest := roundSignificand(magnitude, 8)
	lo := Where(GreaterThan(nearest, magnitude), Sub(nearest, ulp), nearest)
	up := LessThan(uniform, Div(Sub(magnitude, lo), ulp))
	rounded := Mul(Sign(x), Where(up, Add(lo, ulp), lo))
	inRange := LogicalAnd(GreaterOrEqual(magnitude, Scalar(g, dtype, 0x1p-126)),
		LessThan(magnitude, Scalar(g, dtype, 0x1p104)))
	return Where(inRange, rounded, roundToBFloat16(x))
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
