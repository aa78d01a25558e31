using BeijingEts.Domain.Ledger;
using BeijingEts.Domain.Trading;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Lists;

namespace BeijingEts.Functions.Market;

/// <summary>
/// What the market's state can refuse, shared by orders, negotiated transfers, auctions and buy-backs: each check is
/// made before anything is written and says what to fix.
/// </summary>
public sealed class MarketChecks(LedgerStore ledger, AccountDirectory accounts, BookJournal journal, FundsStore funds, TimeProvider clock)
{
    /// <summary>The product is open for trading and the vintage has been issued.</summary>
    public async Task<ProblemHttpResult?> TradableAsync(BookKey book, CancellationToken cancellationToken)
    {
        if (book.Product == Products.Bcer) return Problems.Unprocessable("BCER is not traded yet: BCER moves by lot, and the market does not yet trade lots. Trade BEA.");
        if ((await ledger.IssuedAsync(book.Vintage, cancellationToken)).Value <= 0) return Problems.Unprocessable($"No BEA of vintage {book.Vintage} has been issued; it cannot be traded.");
        return null;
    }

    public async Task<ProblemHttpResult?> HasAccountAsync(string holder, CancellationToken cancellationToken) =>
        await accounts.ExistsAsync(holder, cancellationToken) ? null
        : Problems.Unprocessable($"{holder} has no holding account (Art. 17): units have one on registration, participants once the regulator registers them.");

    /// <summary>The band's centre today: the previous trading day's close, else the exchange's reference price; null when neither is set.</summary>
    public async Task<decimal?> BandCentreAsync(BookKey book, CancellationToken cancellationToken)
    {
        var depth = await journal.DepthAsync(book, cancellationToken);
        var reference = await journal.ReferenceAsync(book, cancellationToken);
        return depth is null ? reference?.Price : depth.BandCentre(BeijingTime.Today(clock), reference?.Price);
    }

    /// <summary>The price is within <paramref name="percent"/> of today's band centre.</summary>
    public async Task<ProblemHttpResult?> InBandAsync(BookKey book, decimal price, decimal percent, CancellationToken cancellationToken)
    {
        var centre = await BandCentreAsync(book, cancellationToken);
        if (centre is null) return Problems.Unprocessable($"{book} has no reference price yet; the exchange sets one (PUT /api/market/{book.Product}/reference-price).");
        var (lower, upper) = PriceRules.Band(centre.Value, percent);
        return price >= lower && price <= upper ? null : Problems.Unprocessable(
            $"price {price} is outside today's band for {book}: {lower} to {upper} yuan (±{percent}% around {centre}).",
            new Dictionary<string, object?> { ["lower"] = lower, ["upper"] = upper });
    }

    /// <summary>A suspended account cannot sell (Art. 16).</summary>
    public async Task<ProblemHttpResult?> MaySellAsync(string seller, CancellationToken cancellationToken) =>
        (await ledger.ReadAccountAsync(seller, cancellationToken)).Suspended
            ? Problems.Unprocessable($"Account {seller} is suspended (Art. 16): it cannot sell until the suspension is lifted.")
            : null;

    public async Task<ProblemHttpResult?> HoldingsCoverAsync(string seller, BookKey book, long tonnes, CancellationToken cancellationToken)
    {
        var held = await ledger.BalanceAsync(seller, book.Product, book.Vintage, null, cancellationToken);
        return held.Value >= tonnes ? null : Problems.Unprocessable(
            $"Insufficient holdings: {held.Value} t of {book.Product} {book.Vintage} are available to sell, {tonnes} t were offered.",
            new Dictionary<string, object?> { ["available"] = held.Value });
    }

    public async Task<ProblemHttpResult?> FundsCoverAsync(string buyer, long neededFen, string what, CancellationToken cancellationToken)
    {
        var balance = await funds.BalanceAsync(buyer, cancellationToken);
        return balance.AvailableFen >= neededFen ? null : Problems.Unprocessable(
            $"Insufficient funds for {what}: it needs {Money.ToYuan(neededFen):0.00} yuan with the fee, and {Money.ToYuan(balance.AvailableFen):0.00} yuan are available.",
            new Dictionary<string, object?> { ["available"] = Money.ToYuan(balance.AvailableFen) });
    }
}
