using System.Collections.Concurrent;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Ledger;
using Microsoft.Extensions.DependencyInjection;

namespace BeijingEts.Functions.Tests.Ledger;

/// <summary>
/// Holds the first delivery of a transaction marked "hold-after-read" once it has read the pending transaction, until
/// the test lets it go: two deliveries of one message, in an order the test chooses.
/// </summary>
public sealed class HoldFirstDeliveryAfterRead : LedgerFaults
{
    private readonly ConcurrentDictionary<string, (TaskCompletionSource Read, TaskCompletionSource Go)> _held = new();

    public Task ReadAsync(string transactionId) => Gate(transactionId).Read.Task;

    public void Release(string transactionId) => Gate(transactionId).Go.TrySetResult();

    public override async Task AfterReadAsync(LedgerTransaction transaction)
    {
        if (transaction.Reference != "hold-after-read") return;
        var gate = Gate(transaction.TransactionId);
        if (gate.Read.TrySetResult()) await gate.Go.Task; // only the first delivery waits; later ones run straight through
    }

    private (TaskCompletionSource Read, TaskCompletionSource Go) Gate(string id) =>
        _held.GetOrAdd(id, _ => (new(TaskCreationOptions.RunContinuationsAsynchronously), new(TaskCreationOptions.RunContinuationsAsynchronously)));
}

public sealed class LedgerIntegrityFixture : FastQueueFixture
{
    public HoldFirstDeliveryAfterRead Faults { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<LedgerFaults>(Faults);
}

/// <summary>Art. 13: the platform's ids are its own, each leg is decided once, and a transaction's status agrees with the balances.</summary>
public sealed class LedgerIntegrityTests(LedgerIntegrityFixture app) : IClassFixture<LedgerIntegrityFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<LedgerTransaction> RecordAsync(TransactionType type, string? from, string to, long quantity, int vintage, string? reference = null)
    {
        var tx = new LedgerTransaction("t-" + Guid.NewGuid().ToString("N"), type, from, to, Products.Bea, vintage, new Tonnes(quantity), null, reference, "test", DateTimeOffset.UtcNow);
        Assert.Null(await app.Service<TransactionStore>().TryAddAsync(tx, Ct)); // recorded, with no queue message: the test delivers it
        return tx;
    }

    [Theory]
    [InlineData("ets:surrender-2025-X-s1-0")]
    [InlineData("ETS:verified-clawback-2025-X")]
    public async Task AnIdInThePlatformsNamespace_Gives400_AndRecordsNothing(string id)
    {
        var unit = await _ledger.NewAccountAsync();

        var cancellation = await _ledger.SubmitAsync(app.Client("unit", unit), "cancellation", unit, "cancellation", 1, id: id.Replace("X", unit));
        var allocation = await _ledger.SubmitAsync(_ledger.Regulator, "allocation", "issuance", unit, 1, id: id.Replace("X", unit));

        Assert.Contains("namespace the platform keeps for its own transactions", (await cancellation.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        Assert.Contains("'ets:'", (await allocation.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        Assert.Equal(HttpStatusCode.NotFound, (await _ledger.Regulator.GetAsync($"/api/ledger/transactions/{Uri.EscapeDataString(id.Replace("X", unit))}", Ct)).StatusCode);
    }

    [Fact]
    public async Task TheExchange_CannotMoveAllowancesBetweenAccounts()
    {
        var a = await _ledger.NewAccountAsync();
        var b = await _ledger.NewAccountAsync();
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 100, vintage: 2042);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", a, 100, vintage: 2042);
        var id = Guid.NewGuid().ToString("N");

        var response = await _ledger.SubmitAsync(_ledger.Exchange, "transfer", a, b, 100, vintage: 2042, id: id);

        Assert.Contains("trades settle inside the market", (await response.AssertProblemAsync(HttpStatusCode.Forbidden)).Detail);
        Assert.Equal(HttpStatusCode.NotFound, (await _ledger.Regulator.GetAsync($"/api/ledger/transactions/{id}", Ct)).StatusCode);
        Assert.Equal(100, await _ledger.HoldingAsync(a, vintage: 2042));
    }

    [Fact]
    public async Task IssuanceForAVintageWithoutAPlan_IsRefused_NamingTheMissingPlan()
    {
        var id = Guid.NewGuid().ToString("N");

        var response = await _ledger.SubmitAsync(_ledger.Regulator, "issuance", null, "issuance", 1_000, vintage: 2091, id: id);

        Assert.Contains("No allocation plan (cap) for 2091", (await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Equal(HttpStatusCode.NotFound, (await _ledger.Regulator.GetAsync($"/api/ledger/transactions/{id}", Ct)).StatusCode);
        // However it reaches the ledger, nothing is issued without the plan.
        var recorded = await RecordAsync(TransactionType.Issuance, null, RegulatorAccounts.Issuance, 1_000, 2092);
        var settled = await app.Service<LedgerSettlement>().SettleAsync(recorded.TransactionId, Ct);
        Assert.Equal(TransactionState.Rejected, settled!.State);
        Assert.Contains("PUT /api/allocation/2092/plan", settled.Reason);
        Assert.Equal(0, await _ledger.HoldingAsync(RegulatorAccounts.Issuance, vintage: 2092));
    }

    /// <summary>
    /// Harm 4: a second delivery read the pending transfer, the first refused its debit and wrote "rejected", the source
    /// was then funded, and the second went on to apply both legs, keeping "rejected": a status that lied about the balances.
    /// </summary>
    [Fact]
    public async Task ASecondDelivery_FindsTheFirstsRefusal_InsteadOfDecidingAgain()
    {
        var a = await _ledger.NewAccountAsync();
        var b = await _ledger.NewAccountAsync();
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 100, vintage: 2043);
        var transfer = await RecordAsync(TransactionType.Transfer, a, b, 100, 2043, reference: "hold-after-read");
        var settlement = app.Service<LedgerSettlement>();

        var second = Task.Run(() => settlement.SettleAsync(transfer.TransactionId, Ct), Ct);
        await app.Faults.ReadAsync(transfer.TransactionId).WaitAsync(Ct); // the second delivery has read it pending
        var first = await settlement.SettleAsync(transfer.TransactionId, Ct); // a holds nothing yet
        Assert.Equal(TransactionState.Rejected, first!.State);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", a, 100, vintage: 2043);
        app.Faults.Release(transfer.TransactionId);
        var late = await second;

        Assert.Equal(TransactionState.Rejected, late!.State);
        Assert.Equal("rejected", (await _ledger.OutcomeAsync(transfer.TransactionId)).GetProperty("status").GetString());
        Assert.Equal(100, await _ledger.HoldingAsync(a, vintage: 2043)); // rejected, so nothing moved
        Assert.Equal(0, await _ledger.HoldingAsync(b, vintage: 2043));
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task ALegAppliedByOneDelivery_IsFoundByTheOther_AndTheStatusIsCompleted()
    {
        var a = await _ledger.NewAccountAsync();
        var b = await _ledger.NewAccountAsync();
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 100, vintage: 2044);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", a, 100, vintage: 2044);
        var transfer = await RecordAsync(TransactionType.Transfer, a, b, 60, 2044, reference: "hold-after-read");
        var settlement = app.Service<LedgerSettlement>();

        var second = Task.Run(() => settlement.SettleAsync(transfer.TransactionId, Ct), Ct);
        await app.Faults.ReadAsync(transfer.TransactionId).WaitAsync(Ct);
        Assert.Equal(TransactionState.Completed, (await settlement.SettleAsync(transfer.TransactionId, Ct))!.State);
        app.Faults.Release(transfer.TransactionId);

        Assert.Equal(TransactionState.Completed, (await second)!.State);
        Assert.Equal(40, await _ledger.HoldingAsync(a, vintage: 2044));
        Assert.Equal(60, await _ledger.HoldingAsync(b, vintage: 2044));
        await _ledger.AssertNoDriftAsync();
    }
}
