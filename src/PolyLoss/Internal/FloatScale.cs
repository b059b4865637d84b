using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace PolyLoss.Internal;

/// <summary>
/// x[j] = round32(x[j] * f) for float32 x and a double factor f, in float lanes (twice the lanes of the double-lane
/// multiply, no conversions): f = fh + fl with fh = round32(f) and fl = round32(f - fh), and
/// round32(x fh + round32(x fl)) by one FMA. The product x f is known to 2^-47 relative before its one rounding, as
/// in double lanes (2^-53), so the results are the same rounding of the same product except for products within
/// about 2^-47 relative of a rounding boundary.
/// </summary>
internal static class FloatScale
{
    // fl ~ f 2^-24 must be a normal float with room to spare (2^-116 above the smallest normal 2^-126), and x f must
    // not overflow for the stored exponentials (at most 2^64): 2^-92 <= |f| <= 2^60. The products x fl of results
    // below about 2^-102 may be subnormal; they add at most 2^-150 there.
    private const double MinFactor = 2.0194839173657902e-28, MaxFactor = 1.152921504606847e18;

    /// <summary>Whether the float-lane form holds for this factor (otherwise callers multiply in double lanes).</summary>
    public static bool Applies(double f) => Math.Abs(f) >= MinFactor && Math.Abs(f) <= MaxFactor;

    /// <summary>Scales <paramref name="x"/> in place by <paramref name="f"/> (which <see cref="Applies"/>), with the
    /// float vector as wide as <typeparamref name="TV"/> (the kernel path's width).</summary>
    public static void Run<TV>(Span<float> x, double f) where TV : struct, IDVec<TV>
    {
        float fh = (float)f, fl = (float)(f - fh);
        int n = x.Length, i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        // Each width's loop, then the narrower widths take what is left (a row of 1000 ends with 8 and no scalar
        // elements on 512-bit lanes): the same formula per element whatever the width.
        if (typeof(TV) == typeof(V512) && Vector512.IsHardwareAccelerated)
        {
            Vector512<float> h = Vector512.Create(fh), l = Vector512.Create(fl);
            for (; i <= n - 16; i += 16)
            {
                ref float at = ref Unsafe.Add(ref xr, i);
                Vector512<float> v = Vector512.LoadUnsafe(ref at);
                Vector512.FusedMultiplyAdd(v, h, v * l).StoreUnsafe(ref at);
            }
        }
        if (typeof(TV) != typeof(V128) && Vector256.IsHardwareAccelerated)
        {
            Vector256<float> h = Vector256.Create(fh), l = Vector256.Create(fl);
            for (; i <= n - 8; i += 8)
            {
                ref float at = ref Unsafe.Add(ref xr, i);
                Vector256<float> v = Vector256.LoadUnsafe(ref at);
                Vector256.FusedMultiplyAdd(v, h, v * l).StoreUnsafe(ref at);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> h = Vector128.Create(fh), l = Vector128.Create(fl);
            for (; i <= n - 4; i += 4)
            {
                ref float at = ref Unsafe.Add(ref xr, i);
                Vector128<float> v = Vector128.LoadUnsafe(ref at);
                Vector128.FusedMultiplyAdd(v, h, v * l).StoreUnsafe(ref at);
            }
        }
        for (; i < n; i++) x[i] = MathF.FusedMultiplyAdd(x[i], fh, x[i] * fl);
    }
}
