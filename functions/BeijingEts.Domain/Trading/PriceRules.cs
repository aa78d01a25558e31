namespace BeijingEts.Domain.Trading;

/// <summary>Prices in yuan on a 0.01 tick, inside a band around the reference price (Art. 18-20).</summary>
public static class PriceRules
{
    public const decimal Tick = 0.01m;

    public static bool OnTick(decimal price) => price > 0 && decimal.Round(price, 2) == price;

    /// <summary>The band's limits: reference ± percent, the lower rounded up and the upper down to a tick, so both are tradable prices.</summary>
    public static (decimal Lower, decimal Upper) Band(decimal reference, decimal percent)
    {
        var lower = Math.Ceiling(reference * (100 - percent) / 100 / Tick) * Tick;
        var upper = Math.Floor(reference * (100 + percent) / 100 / Tick) * Tick;
        return (Math.Max(lower, Tick), upper);
    }

    /// <summary>Turnover of a fill: price × tonnes, exact in yuan.</summary>
    public static decimal Turnover(decimal price, long quantity) => price * quantity;

    /// <summary>A fee on turnover at a rate in percent, rounded half up to the fen (分).</summary>
    public static decimal Fee(decimal turnover, decimal ratePercent) =>
        decimal.Round(turnover * ratePercent / 100, 2, MidpointRounding.AwayFromZero);
}
