using BeijingEts.Functions.Tests.Lists;

namespace BeijingEts.Functions.Tests.Market;

public sealed class FundsFixture : EtsAppFixture;

/// <summary>Funds accounts at the exchange: deposits and withdrawals recorded once, never overdrawn, seen only by those allowed.</summary>
public sealed class FundsTests(FundsFixture app) : IClassFixture<FundsFixture>
{
    private readonly HttpClient _exchange = app.Client("exchange");
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<string> ParticipantAsync()
    {
        var uscc = TestUnits.NewUscc();
        (await app.Client("regulator").PutAsJsonAsync($"/api/participants/{uscc}", new { name = "Green Fund Ltd" }, Ct)).EnsureSuccessStatusCode();
        return uscc;
    }

    private Task<HttpResponseMessage> MoveAsync(string participant, string kind, string id, decimal amount) =>
        _exchange.PostAsJsonAsync($"/api/market/funds/{participant}/{kind}", new { transactionId = id, amount }, Ct);

    private async Task<(decimal Available, decimal Frozen)> BalanceAsync(string participant, HttpClient? client = null)
    {
        var view = await (client ?? _exchange).GetFromJsonAsync<JsonElement>($"/api/market/funds/{participant}", Ct);
        return (view.GetProperty("available").GetDecimal(), view.GetProperty("frozen").GetDecimal());
    }

    [Fact]
    public async Task Deposits_AndWithdrawals_MoveAvailableFunds_ToTheFen()
    {
        var participant = await ParticipantAsync();

        Assert.Equal(HttpStatusCode.Created, (await MoveAsync(participant, "deposits", "d1", 10_000.55m)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await MoveAsync(participant, "deposits", "d2", 0.01m)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await MoveAsync(participant, "withdrawals", "w1", 2_500.06m)).StatusCode);

        Assert.Equal((7_500.50m, 0m), await BalanceAsync(participant));
    }

    [Fact]
    public async Task TheSameTransactionId_MovesOnce_AndOtherContentUnderIt_IsAConflict()
    {
        var participant = await ParticipantAsync();

        Assert.Equal(HttpStatusCode.Created, (await MoveAsync(participant, "deposits", "same", 100m)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await MoveAsync(participant, "deposits", "same", 100m)).StatusCode);
        await (await MoveAsync(participant, "deposits", "same", 101m)).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await MoveAsync(participant, "withdrawals", "same", 100m)).AssertProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal((100m, 0m), await BalanceAsync(participant));
    }

    [Fact]
    public async Task ConcurrentDeposits_AllCount()
    {
        var participant = await ParticipantAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => MoveAsync(participant, "deposits", $"c{i}", 1.25m)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        Assert.Equal((30m, 0m), await BalanceAsync(participant));
    }

    [Fact]
    public async Task AWithdrawalBeyondAvailable_IsRefused_SayingWhatIsAvailable_AndChangesNothing()
    {
        var participant = await ParticipantAsync();
        await MoveAsync(participant, "deposits", "d1", 50m);

        var problem = await (await MoveAsync(participant, "withdrawals", "w1", 50.01m)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity);

        Assert.Contains("50.00 yuan", problem.Detail);
        Assert.Equal((50m, 0m), await BalanceAsync(participant));
        // The refused id is not spent: the exchange may record the right amount under it.
        Assert.Equal(HttpStatusCode.Created, (await MoveAsync(participant, "withdrawals", "w1", 20m)).StatusCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(1.005)]
    public async Task AnAmountThatIsNotPositiveYuanAndFen_IsA400(double amount)
    {
        var participant = await ParticipantAsync();

        var problem = await (await MoveAsync(participant, "deposits", "bad", (decimal)amount)).AssertProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains("amount", problem.Detail);
        Assert.Equal((0m, 0m), await BalanceAsync(participant));
    }

    [Fact]
    public async Task AnUnknownParticipant_IsA404_AndAMalformedOneA400()
    {
        await (await MoveAsync(TestUnits.NewUscc(), "deposits", "d", 1m)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await MoveAsync("not-a-uscc", "deposits", "d", 1m)).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task TheParticipantSeesItsOwnFunds_AnotherSeesNothing_AndOnlyTheExchangeMovesThem()
    {
        var participant = await ParticipantAsync();
        var other = await ParticipantAsync();
        await MoveAsync(participant, "deposits", "d1", 10m);

        Assert.Equal((10m, 0m), await BalanceAsync(participant, app.Client("participant", participant)));
        Assert.Equal((10m, 0m), await BalanceAsync(participant, app.Client("regulator")));
        await (await app.Client("participant", other).GetAsync($"/api/market/funds/{participant}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        var byParticipant = await app.Client("participant", participant).PostAsJsonAsync($"/api/market/funds/{participant}/deposits", new { transactionId = "self", amount = 1m }, Ct);
        await byParticipant.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal((10m, 0m), await BalanceAsync(participant));
    }
}
