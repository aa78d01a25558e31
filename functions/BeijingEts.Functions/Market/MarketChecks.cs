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
/// <remarks>
/// What only ever becomes true (a vintage issued, an account registered) is remembered once seen; the band's centre,
/// which moves once a day or when the exchange sets a reference price, is read again after a second. Every order would
/// otherwise pay four reads for answers that hardly change.
/// </remarks>
public sealed partial class MarketChecks(LedgerStore ledger, AccountDirectory accounts, BookJournal journal, FundsStore funds, TimeProvider clock)
{
    private static readonly TimeSpan CentreFreshFor = TimeSpan.FromSeconds(1);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, bool> _issued = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _accounts = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<BookKey, (decimal? Centre, long ReadAt)> _centres = new();

    /// <summary>Whether the id is 1 to 64 letters, digits, '-', '_' or '.': the client's key that makes a request idempotent.</summary>
    public static bool IsClientId(string? id) => id is not null && ClientIdPattern().IsMatch(id);

    /// <summary>
    /// Null when the price is a positive number of yuan on the 0.01 tick (and, if <paramref name="capped"/>, at most
    /// 100000 yuan a tonne), else what is wrong with it.
    /// </summary>
    public static string? PriceProblem(string field, decimal price, bool capped = true) =>
        !PriceRules.OnTick(price) ? $"{field} must be a positive number of yuan on the 0.01 tick; it is {price}."
        : capped && price > 100_000m ? $"{field} may be at most 100000 yuan a tonne."
        : null;

    /// <summary>Null when the quantity is a positive number of tonnes (and, if <paramref name="capped"/>, at most 100,000,000 t), else what is wrong with it.</summary>
    public static string? QuantityProblem(long quantity, bool capped = true) =>
        quantity <= 0 ? $"quantity must be a positive whole number of tonnes; it is {quantity}."
        : capped && quantity > 100_000_000 ? "quantity may be at most 100,000,000 t."
        : null;

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial System.Text.RegularExpressions.Regex ClientIdPattern();

    /// <summary>
    /// What is wrong with the lot, or null: BCER moves by lot, so whoever delivers BCER names the lot (its project and
    /// serial reference); a BCER buyer takes any lot; BEA has no lots.
    /// </summary>
    public static string? LotProblem(string? product, bool delivers, string? lot) => product switch
    {
        Products.Bea when lot is not null => "lot is only for BCER; leave it out for BEA.",
        Products.Bcer when delivers && string.IsNullOrWhiteSpace(lot) => "lot is required to sell BCER: the lot delivered (its project and serial reference, as in GET /api/accounts/{id}).",
        Products.Bcer when !delivers && lot is not null => "a BCER buy takes whatever lot the seller delivers; leave lot out.",
        _ => lot is { Length: > 200 } ? "lot may be at most 200 characters." : null,
    };

    /// <summary>BEA of the vintage has been issued (BCER comes in by deposit, lot by lot: a seller's holdings are checked instead).</summary>
    public async Task<ProblemHttpResult?> TradableAsync(BookKey book, CancellationToken cancellationToken)
    {
        if (book.Product == Products.Bcer || _issued.ContainsKey(book.Vintage)) return null;
        if ((await ledger.IssuedAsync(book.Vintage, cancellationToken)).Value <= 0) return Problems.Unprocessable($"No BEA of vintage {book.Vintage} has been issued; it cannot be traded.");
        _issued[book.Vintage] = true;
        return null;
    }

    public async Task<ProblemHttpResult?> HasAccountAsync(string holder, CancellationToken cancellationToken)
    {
        if (_accounts.ContainsKey(holder)) return null;
        if (!await accounts.ExistsAsync(holder, cancellationToken))
        {
            return Problems.Unprocessable($"{holder} has no holding account (Art. 17): units have one on registration, participants once the regulator registers them.");
        }
        _accounts[holder] = true;
        return null;
    }

    /// <summary>The band's centre today: the previous trading day's close, else the exchange's reference price; null when neither is set.</summary>
    public async Task<decimal?> BandCentreAsync(BookKey book, CancellationToken cancellationToken)
    {
        var now = clock.GetTimestamp();
        if (_centres.TryGetValue(book, out var known) && known.Centre is not null && clock.GetElapsedTime(known.ReadAt, now) < CentreFreshFor) return known.Centre;
        var depth = journal.DepthAsync(book, cancellationToken);
        var reference = journal.ReferenceAsync(book, cancellationToken);
        var centre = await depth is { } d ? d.BandCentre(BeijingTime.Today(clock), (await reference)?.Price) : (await reference)?.Price;
        _centres[book] = (centre, now);
        return centre;
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
        await ledger.IsSuspendedAsync(seller, cancellationToken) ? Suspended(seller) : null;

    /// <summary>
    /// <see cref="MaySellAsync"/> and <see cref="HoldingsCoverAsync"/> together for a sell order: on the rows as this
    /// instance last committed them when they allow the sale (the freeze decides, on what storage holds), else on both
    /// read now, so what it refuses is refused on what storage holds.
    /// </summary>
    public async Task<ProblemHttpResult?> SellerCoversAsync(string seller, BookKey book, long tonnes, string? lot, CancellationToken cancellationToken)
    {
        var (suspended, held) = await ledger.SellerAsync(seller, book.Product, book.Vintage, lot, tonnes, cancellationToken);
        return suspended ? Suspended(seller) : Covers(book, tonnes, lot, held);
    }

    public async Task<ProblemHttpResult?> HoldingsCoverAsync(string seller, BookKey book, long tonnes, string? lot, CancellationToken cancellationToken) =>
        Covers(book, tonnes, lot, await ledger.BalanceAsync(seller, book.Product, book.Vintage, lot, cancellationToken));

    private static ProblemHttpResult Suspended(string seller) =>
        Problems.Unprocessable($"Account {seller} is suspended (Art. 16): it cannot sell until the suspension is lifted.");

    private static ProblemHttpResult? Covers(BookKey book, long tonnes, string? lot, Tonnes held) =>
        held.Value >= tonnes ? null : Problems.Unprocessable(
            $"Insufficient holdings: {held.Value} t of {book.Product} {book.Vintage}{(lot is null ? "" : $" lot {lot}")} are available to sell, {tonnes} t were offered.",
            new Dictionary<string, object?> { ["available"] = held.Value });

    /// <param name="kept">The balance may come from the row this instance last wrote (<see cref="FundsStore.BalanceForAsync"/>):
    /// only where the freeze that follows decides on the row read now, and a refusal there is answered as this one is (a
    /// buy order). An auction bid or a deal's confirmation is written before its freeze, so it is checked on the balance read now.</param>
    public async Task<ProblemHttpResult?> FundsCoverAsync(string buyer, long neededFen, string what, CancellationToken cancellationToken, bool kept = false)
    {
        var balance = kept ? await funds.BalanceForAsync(buyer, neededFen, cancellationToken) : await funds.BalanceAsync(buyer, cancellationToken); // a shortfall only on the balance read now
        return balance.AvailableFen >= neededFen ? null : Problems.Unprocessable(
            $"Insufficient funds for {what}: it needs {Money.ToYuan(neededFen):0.00} yuan with the fee, and {Money.ToYuan(balance.AvailableFen):0.00} yuan are available.",
            new Dictionary<string, object?> { ["available"] = Money.ToYuan(balance.AvailableFen) });
    }
}
