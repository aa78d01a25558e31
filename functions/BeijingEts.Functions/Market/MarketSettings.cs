using System.Globalization;

namespace BeijingEts.Functions.Market;

/// <summary>
/// The exchange's public rules (Art. 18-20), from Ets:Market: the price band around the reference price and the fees
/// each side pays on its turnover. The defaults are placeholders for the exchange's published schedule.
/// </summary>
public sealed record MarketSettings(decimal BandPercent, decimal BuyerFeePercent, decimal SellerFeePercent)
{
    public static MarketSettings From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Ets:Market");
        decimal Read(string key, decimal fallback) =>
            section[key] is { Length: > 0 } text ? decimal.Parse(text, CultureInfo.InvariantCulture) : fallback;
        return new MarketSettings(Read("BandPercent", 20m), Read("BuyerFeePercent", 0.15m), Read("SellerFeePercent", 0.15m));
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
