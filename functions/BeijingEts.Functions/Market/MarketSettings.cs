using System.Globalization;
using BeijingEts.Domain.Trading;

namespace BeijingEts.Functions.Market;

/// <summary>
/// The exchange's public rules (Art. 18-20), from Ets:Market: the price band around the reference price and the fees
/// each side pays on its turnover; for negotiated transfers their own band, smallest size and time to confirm; for
/// price monitoring the daily move and the corridor for the 5-day average that raise an alert; for surveillance the
/// window for round trips, the cancellation burst and the concentration share. The defaults are placeholders for the
/// exchange's published schedule and the regulator's thresholds.
/// </summary>
public sealed record MarketSettings(decimal BandPercent, decimal BuyerFeePercent, decimal SellerFeePercent)
{
    public decimal NegotiatedBandPercent { get; init; } = 30m;
    public long NegotiatedMinimumTonnes { get; init; } = 1;
    public TimeSpan NegotiatedConfirmationTime { get; init; } = TimeSpan.FromHours(24);

    /// <summary>A close more than this far from the previous close raises an alert (Art. 20).</summary>
    public decimal AlertMovePercent { get; init; } = 10m;
    /// <summary>The corridor the 5-day average price must stay in, in yuan a tonne.</summary>
    public decimal CorridorLow { get; init; } = 20m;
    public decimal CorridorHigh { get; init; } = 150m;

    /// <summary>A round trip A→B→A within this many days is a possible wash trade (Art. 34).</summary>
    public int WashTradeDays { get; init; } = 5;
    /// <summary>This many orders placed and cancelled by one participant within <see cref="BurstWindow"/> is a burst.</summary>
    public int BurstCancellations { get; init; } = 20;
    public TimeSpan BurstWindow { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>One holder with more than this share of a vintage in circulation is flagged.</summary>
    public decimal ConcentrationPercent { get; init; } = 30m;

    /// <summary>The buyer's fee on a fill, in fen: a percent of its turnover, rounded half up to the fen.</summary>
    public long BuyerFeeFen(decimal price, long quantity) => Money.ToFen(PriceRules.Fee(PriceRules.Turnover(price, quantity), BuyerFeePercent));

    /// <summary>The seller's fee on a fill, in fen.</summary>
    public long SellerFeeFen(decimal price, long quantity) => Money.ToFen(PriceRules.Fee(PriceRules.Turnover(price, quantity), SellerFeePercent));

    /// <summary>
    /// What a buy at a limit freezes: its cost at that price with the buyer's fee, plus a fen a tonne for the fee's
    /// rounding on each fill (what is not spent comes back).
    /// </summary>
    public long BuyHoldFen(decimal price, long quantity) => Money.ToFen(PriceRules.Turnover(price, quantity)) + BuyerFeeFen(price, quantity) + quantity;

    public static MarketSettings From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Ets:Market");
        decimal Read(string key, decimal fallback) =>
            section[key] is { Length: > 0 } text ? decimal.Parse(text, CultureInfo.InvariantCulture) : fallback;
        var defaults = new MarketSettings(20m, 0.15m, 0.15m);
        return new MarketSettings(Read("BandPercent", defaults.BandPercent), Read("BuyerFeePercent", defaults.BuyerFeePercent), Read("SellerFeePercent", defaults.SellerFeePercent))
        {
            NegotiatedBandPercent = Read("NegotiatedBandPercent", defaults.NegotiatedBandPercent),
            NegotiatedMinimumTonnes = (long)Read("NegotiatedMinimumTonnes", defaults.NegotiatedMinimumTonnes),
            NegotiatedConfirmationTime = TimeSpan.FromMinutes((double)Read("NegotiatedConfirmationMinutes", (decimal)defaults.NegotiatedConfirmationTime.TotalMinutes)),
            AlertMovePercent = Read("AlertMovePercent", defaults.AlertMovePercent),
            CorridorLow = Read("CorridorLow", defaults.CorridorLow),
            CorridorHigh = Read("CorridorHigh", defaults.CorridorHigh),
            WashTradeDays = (int)Read("WashTradeDays", defaults.WashTradeDays),
            BurstCancellations = (int)Read("BurstCancellations", defaults.BurstCancellations),
            BurstWindow = TimeSpan.FromSeconds((double)Read("BurstWindowSeconds", (decimal)defaults.BurstWindow.TotalSeconds)),
            ConcentrationPercent = Read("ConcentrationPercent", defaults.ConcentrationPercent),
        };
    }
}

/// <summary>A product and vintage: one order book, matched in one sequence.</summary>
public readonly record struct BookKey(string Product, int Vintage)
{
    public override string ToString() => $"{Product}-{Vintage.ToString(CultureInfo.InvariantCulture)}";

    public static bool TryParse(string text, out BookKey key)
    {
        var dash = text.LastIndexOf('-');
        key = default;
        if (dash <= 0 || !int.TryParse(text[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var vintage)) return false;
        key = new BookKey(text[..dash], vintage);
        return true;
    }
}
