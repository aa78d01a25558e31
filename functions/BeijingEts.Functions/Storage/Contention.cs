namespace BeijingEts.Functions.Storage;

/// <summary>What a writer does after losing an optimistic-concurrency race (a 409 or 412) on a contended row.</summary>
public static class Contention
{
    /// <summary>
    /// Waits a random while, longer the more races in a row were lost (5 ms a race, up to <paramref name="maxRaces"/>),
    /// so many writers on one row spread out instead of colliding again at once.
    /// </summary>
    public static Task BackOffAsync(int racesLost, CancellationToken cancellationToken, int maxRaces = 20) =>
        Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 * Math.Clamp(racesLost, 1, maxRaces))), cancellationToken);
}
